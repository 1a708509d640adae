"""``printkiosk analyze FILE.gcode|.bgcode [--json]``: ours beside the slicer's, exit 2 on a
bad file with its line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from printkiosk.cli import main

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "gcode"


def test_text_output_shows_ours_and_the_slicers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(CORPUS / "pjh__prusaslicer220_Treefrog_FLEX.gcode")]) == 0
    out = capsys.readouterr().out
    assert "slicer:         PrusaSlicer 2.2.0+" in out
    assert "printer model:  MK3S" in out and "material:       FLEX" in out
    assert "filament T0:    2035.55 mm            2119.0 mm" in out
    assert "as it counts: 2119.00 mm" in out
    assert "weight:         5.93 g                6.2 g" in out
    assert "time:           not estimated         1h 4m 37s" in out
    assert "price uses:     5.93 g (ours), 1h 4m 37s (the slicer)" in out


def test_json_output_of_a_bgcode_recognised_by_content(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    renamed = tmp_path / "upload.bin"
    shutil.copy(CORPUS / "libbgcode__mini_cube_ps2.8.1.bgcode", renamed)
    assert main(["analyze", "--json", str(renamed)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["format"] == "bgcode"
    assert result["ours"]["filament_mm"] == ["252.22"]
    assert result["slicer"]["filament_mm"] == ["252.22"]
    assert result["slicer"]["printer_model"] == "MK4S"
    assert result["price_uses"] == {"grams": "0.75", "grams_source": "ours", "time_s": 221,
                                    "time_source": "slicer"}


def test_a_file_without_a_stated_time_uses_ours(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "job"
    path.write_text("; hand written\nG90\nM83\nG1 X0 Y0 F6000\nG1 X100 Y0 E5 F600\n")
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "time:           0m 10s                not stated" in out  # 100 mm at 10 mm/s
    assert "(ours)" in out


def test_a_bad_line_exits_2_with_the_line(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.gcode"
    path.write_text("M83\nG1 X1 E1\nG1 X2 Ebad\n")
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert "E has no valid number ('bad') at line 3" in err
