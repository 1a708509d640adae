"""Files that are not G-code, or damaged G-code: a GcodeError saying what and on which line;
and memory stays flat on a large file."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest
from gcode_files import spiral

from analysis import GcodeError, analyse_gcode, filament_up_to


def error_of(path: Path) -> GcodeError:
    with pytest.raises(GcodeError) as caught:
        analyse_gcode(path)
    return caught.value


def test_a_non_numeric_e_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.gcode"
    path.write_text("M83\nG1 X0 Y0 E1\n; comment\nG1 X1 Ebad\nG1 X2 E1\n")
    error = error_of(path)
    assert (error.line, error.path) == (4, path)
    assert "E has no valid number ('bad')" in error.reason


def test_a_bad_number_deep_in_a_big_file_names_its_line(tmp_path: Path) -> None:
    lines = ["M83"] + [f"G1 X{i % 200} Y{i % 150} E0.01" for i in range(200_000)]
    lines[150_000] = "G1 X5 Y5 E0.0.1"
    path = tmp_path / "big.gcode"
    path.write_text("\n".join(lines) + "\n")
    assert error_of(path).line == 150_001
    with pytest.raises(GcodeError) as caught:
        filament_up_to(path, path.stat().st_size)
    assert caught.value.line == 150_001


def test_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "nul.gcode"
    path.write_bytes(b"M83\nG1 X1 E1\nG1 X2\x00\x00 E1\n")
    error = error_of(path)
    assert error.line == 3 and "NUL" in error.reason


def test_a_line_longer_than_64_kib(tmp_path: Path) -> None:
    path = tmp_path / "long.gcode"
    path.write_bytes(b"M83\nG1 X1 E1\n;" + b"x" * (70 * 1024) + b"\nG1 X2 E1\n")
    error = error_of(path)
    assert error.line == 3 and "64 KiB" in error.reason
    path.write_bytes(b"M83\n" * 100_000 + b"G1 X1 E1" + b"9" * (200 * 1024))  # no newline
    assert error_of(path).line == 100_001


def test_binary_garbage(tmp_path: Path) -> None:
    rng = random.Random(5)
    path = tmp_path / "garbage.gcode"
    path.write_bytes(bytes(rng.randrange(1, 256) for _ in range(50_000)))
    error = error_of(path)
    assert error.line is not None and error.line >= 1
    path.write_bytes(b"PK\x03\x04 this is a zip\nnot g-code\n")
    error = error_of(path)
    assert (error.line, error.reason) == (1, "not a G-code command")


def test_memory_stays_flat_on_a_30_mb_file(tmp_path: Path) -> None:
    path = tmp_path / "spiral.gcode"
    spiral(path, 30, relative=False)
    assert path.stat().st_size > 30_000_000
    tracemalloc.start()
    try:
        result = analyse_gcode(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.total_mm > 0
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
