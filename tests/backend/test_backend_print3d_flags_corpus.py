"""The figures_disagree flag on real slicer files: honest files are not flagged.

KISSlicer states the net deposit (each path's 1 mm prime is retracted at its end), so on
its sample our total is ten times its figure; compared the way that slicer counts
(``comparable_mm``) the two agree. A file whose stated figure was edited is still flagged.
"""

from __future__ import annotations

from pathlib import Path

from analysis import analyse_gcode
from backend.config import Print3DGroup
from backend.print3d_analysis import flags_of

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "gcode"
KISSLICER = CORPUS / "gcode_metadata__kisslicer2.gcode"
TREEFROG = CORPUS / "pjh__prusaslicer220_Treefrog_FLEX.gcode"


def _group(model: str | None = "MK3S", material: str = "FLEX") -> Print3DGroup:
    return Print3DGroup(name="g", printer_model=model, materials=[material])


def test_an_honest_kisslicer_file_is_not_flagged() -> None:
    analysis = analyse_gcode(KISSLICER)
    stated = analysis.slicer.filament_mm
    assert stated is not None and analysis.total_mm > 5 * stated[0]
    flags = flags_of(analysis, _group(None, "PLA"))  # its material is "sample material"
    assert [f.code for f in flags] == ["material_not_loaded"]


def test_an_edited_stated_figure_is_flagged(tmp_path: Path) -> None:
    edited = tmp_path / "edited.gcode"
    edited.write_bytes(TREEFROG.read_bytes().replace(
        b"; filament used [mm] = 2119.0", b"; filament used [mm] = 1119.0"))
    flags = flags_of(analyse_gcode(edited), _group())
    assert [f.code for f in flags] == ["figures_disagree"]
