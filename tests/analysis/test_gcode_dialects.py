"""Each G-code dialect case on a small generated file, and random files against a naive
line-by-line reading (tests/analysis/gcode_files.py)."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest
from gcode_files import TIME_FOOTER, naive, random_gcode

from analysis import GcodeError, analyse_gcode, filament_up_to, grams_of


def write(tmp_path: Path, text: str, name: str = "job.gcode", *, footer: bool = True) -> Path:
    path = tmp_path / name
    path.write_text(text + ("\n" + TIME_FOOTER if footer else "\n"))
    return path


def mm(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("footer", [True, False], ids=["fast-path", "timed-slow-path"])
def test_random_files_match_a_naive_reading(tmp_path: Path, seed: int, footer: bool) -> None:
    path = tmp_path / f"random{seed}.gcode"
    random_gcode(path, seed, time_footer=footer)
    ref = naive(path)
    result = analyse_gcode(path)
    want = [Decimal(f"{max(p, 0.0):.2f}") for p in ref.peaks]
    got = list(result.filament_mm) + [Decimal("0.00")] * (len(want) - len(result.filament_mm))
    for ours, theirs in zip(got, want, strict=True):
        assert abs(ours - theirs) <= Decimal("0.01"), (got, want)
    assert result.layers == len(ref.layers)
    assert result.bbox_mm is not None
    (x0, y0, _z0), (x1, y1, _z1) = result.bbox_mm
    rx0, ry0, rx1, ry1 = ref.box_xy()
    assert (float(x0), float(y0), float(x1), float(y1)) == pytest.approx(
        (rx0, ry0, rx1, ry1), abs=0.006)
    assert result.time_source == ("slicer" if footer else "ours")
    if not footer:  # our estimate ran, on the fast path's segments and the exact path
        assert abs(result.our_time_s - ref.seconds) <= 1


@pytest.mark.parametrize("seed", range(4))
def test_random_files_with_layer_markers_and_z_on_extrusions(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "vase.gcode"
    random_gcode(path, 50 + seed, time_footer=True, markers=True)
    ref = naive(path)
    result = analyse_gcode(path)
    assert result.total_mm == pytest.approx(Decimal(f"{sum(ref.peaks):.2f}"),
                                            abs=Decimal("0.03"))
    assert result.layers == path.read_text().count(";LAYER_CHANGE")
    assert result.bbox_mm is not None
    (x0, y0, _), (x1, y1, _) = result.bbox_mm
    assert (float(x0), float(y0), float(x1), float(y1)) == pytest.approx(ref.box_xy(),
                                                                         abs=0.006)


@pytest.mark.parametrize("seed", range(4))
def test_random_files_with_arcs_match_in_filament(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "arcs.gcode"
    random_gcode(path, 100 + seed, time_footer=seed % 2 == 0, arcs=True)
    ref = naive(path)
    result = analyse_gcode(path)
    assert result.total_mm == pytest.approx(Decimal(f"{sum(ref.peaks):.2f}"),
                                            abs=Decimal("0.02"))


def test_relative_and_absolute_e_give_the_same_filament(tmp_path: Path) -> None:
    absolute = write(tmp_path, "M82\nG92 E0\nG1 X10 Y0 E1.5\nG1 X20 E3\nG1 X30 E4.25",
                     "abs.gcode")
    relative = write(tmp_path, "M83\nG1 X10 Y0 E1.5\nG1 X20 E1.5\nG1 X30 E1.25", "rel.gcode")
    assert analyse_gcode(absolute).filament_mm == analyse_gcode(relative).filament_mm \
        == mm("4.25")


def test_g92_mid_file_and_g92_without_e(tmp_path: Path) -> None:
    path = write(tmp_path, "M82\nG92 E0\nG1 X10 E10\nG92 E0\nG1 X20 E5\n"
                           "G92 X0 Y0\nG1 X30 E7\nG92 E100\nG1 X40 E101")
    # 10, then 5 from the reset, then 2 more (G92 without E leaves E at 5), then 1
    assert analyse_gcode(path).filament_mm == mm("18.00")


def test_bare_g92_resets_every_axis(tmp_path: Path) -> None:
    path = write(tmp_path, "M82\nG1 X10 E4\nG92\nG1 X20 E1")
    assert analyse_gcode(path).filament_mm == mm("5.00")


def test_firmware_retraction_is_counted_back_on_g11(tmp_path: Path) -> None:
    path = write(tmp_path, "M83\nM207 S2.5\nG1 X10 E4\nG10\nG0 X50\nG11\nG1 X60 E1\nG10")
    result = analyse_gcode(path)
    assert result.filament_mm == mm("5.00")  # the final G10 retracts: no filament unsaid
    default = write(tmp_path, "M83\nG1 X10 E4\nG10\nG1 X20 E1\nG11\nG1 X30 E1", "d.gcode")
    # default 3 mm: G10 -> 1, E1 -> 2 (refill), G11 -> 5, E1 -> 6
    assert analyse_gcode(default).filament_mm == mm("6.00")


def test_g10_with_p_is_a_tool_offset_not_a_retraction(tmp_path: Path) -> None:
    path = write(tmp_path, "M83\nG10 P0 X0 Y0\nG1 X10 E4\nG11\nG1 X20 E1")
    assert analyse_gcode(path).filament_mm == mm("5.00")


def test_tool_changes_give_per_extruder_totals(tmp_path: Path) -> None:
    path = write(tmp_path, "M83\nT0\nG1 X10 E3\nT2\nG1 X20 E2\nG1 X30 E-1\nG1 X31 E1.5\n"
                           "T0\nG1 X40 E1")
    result = analyse_gcode(path)
    assert result.filament_mm == mm("4.00", "0.00", "2.50")
    assert result.total_mm == Decimal("6.50")


def test_arc_extent_goes_into_the_box(tmp_path: Path) -> None:
    # a half circle counter-clockwise from (10, 0) to (-10, 0) around the origin: top y=10
    path = write(tmp_path, "M83\nG0 X10 Y0 Z0.2\nG3 X-10 Y0 I-10 J0 E3\nG1 X-10 Y-1 E0.1")
    result = analyse_gcode(path)
    assert result.filament_mm == mm("3.10")
    assert result.bbox_mm is not None
    (x0, y0, z0), (x1, y1, z1) = result.bbox_mm
    assert (x0, y0, x1, y1) == (Decimal("-10.00"), Decimal("-1.00"), Decimal("10.00"),
                                Decimal("10.00"))
    assert z0 == z1 == Decimal("0.20")
    clockwise = write(tmp_path, "M83\nG0 X10 Y0\nG2 X-10 Y0 R10 E3", "cw.gcode")
    (_, cy0, _), (_, cy1, _) = analyse_gcode(clockwise).bbox_mm or ((0, 0, 0), (0, 0, 0))
    assert (cy0, cy1) == (Decimal("-10.00"), Decimal("0.00"))


def test_m82_m83_switching_mid_file(tmp_path: Path) -> None:
    path = write(tmp_path, "M82\nG92 E0\nG1 X1 E2\nM83\nG1 X2 E1\nG1 X3 E1\nM82\nG92 E0\n"
                           "G1 X4 E3")
    assert analyse_gcode(path).filament_mm == mm("7.00")


def test_g91_makes_e_relative_until_g90(tmp_path: Path) -> None:
    path = write(tmp_path, "M82\nG92 E0\nG1 X1 Y1 E2\nG91\nG1 X1 E1\nG1 X1 E1\nG90\nG1 X5 E6")
    result = analyse_gcode(path)
    assert result.filament_mm == mm("6.00")  # 2, +1, +1, then absolute 6 from E 4
    assert result.bbox_mm is not None
    assert result.bbox_mm[1][0] == Decimal("5.00")


def test_cura_volumetric_e_is_mm3(tmp_path: Path) -> None:
    path = write(tmp_path, ";FLAVOR:Marlin(Volumetric)\nM82\nG92 E0\nG1 X10 E24.0528\n"
                           "G1 X20 E48.1056")
    result = analyse_gcode(path)
    assert result.volumetric
    area = math.pi * 1.75 ** 2 / 4
    assert float(result.total_mm) == pytest.approx(48.1056 / area, abs=0.01)
    assert result.volume_cm3 == Decimal("0.0481")


def test_m221_flow_scales_what_is_extruded(tmp_path: Path) -> None:
    path = write(tmp_path, "M83\nG1 X1 E10\nM221 S90\nG1 X2 E10\nM221 S100\nG1 X3 E10")
    result = analyse_gcode(path)
    assert result.filament_mm == mm("29.00")
    assert result.comparable_mm == Decimal("30.00")  # slicers state E as written


def test_layers_by_z_of_extruding_moves_or_by_markers(tmp_path: Path) -> None:
    by_z = write(tmp_path, "M83\nG1 Z0.2\nG1 X1 E1\nG1 Z0.6\nG0 X5\nG1 Z0.4\nG1 X2 E1\n"
                           "G1 Z0.6\nG1 X3 E1\nG1 Z1.0\nG1 E-1\nG1 E1", "z.gcode")
    # 0.2, 0.4, 0.6 extrude; the hop to 0.6 and the retract/unretract at 1.0 do not
    assert analyse_gcode(by_z).layers == 3
    marked = write(tmp_path, "M83\n;LAYER_CHANGE\nG1 Z0.2\nG1 X1 E1\n;LAYER_CHANGE\n"
                             "G1 X2 E1", "m.gcode")
    assert analyse_gcode(marked).layers == 2


def test_filament_up_to_a_file_position(tmp_path: Path) -> None:
    path = tmp_path / "random.gcode"
    random_gcode(path, 7, lines=4000, time_footer=True)
    data = path.read_bytes()
    whole = analyse_gcode(path)
    half = data.index(b"\n", len(data) // 2) + 1
    prefix = tmp_path / "prefix.gcode"
    prefix.write_bytes(data[:half])
    assert filament_up_to(path, half) == naive_filament(prefix)
    assert filament_up_to(path, len(data)) == whole.filament_mm
    assert filament_up_to(path, half + 3) == filament_up_to(path, half)  # partial line
    offsets = [offset for offset, _ in whole.checkpoints]
    totals = [total for _, total in whole.checkpoints]
    assert offsets == sorted(offsets) and offsets[-1] == len(data)
    gaps = [b - a for a, b in zip([0, *offsets], offsets, strict=False)]
    assert max(gaps) <= max(4096, len(data) // 100) + 200  # about every 1 %, 4 KiB at least
    assert totals == sorted(totals) and totals[-1] == whole.total_mm


def naive_filament(path: Path) -> tuple[Decimal, ...]:
    ref = naive(path)
    return tuple(Decimal(f"{max(p, 0.0):.2f}") for p in ref.peaks)


def test_grams_from_diameter_and_density() -> None:
    assert grams_of(Decimal("1000"), Decimal("1.75"), Decimal("1.24")) == Decimal("2.98")
    with pytest.raises(ValueError):
        grams_of(Decimal("1"), Decimal("0"), Decimal("1.24"))


def test_arguments_override_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "; filament_diameter = 2.85\n; filament_density = 1.27\n"
                           "M83\nG1 X1 E1000")
    header = analyse_gcode(path)
    assert (header.diameter_mm, header.density_g_cm3) == (Decimal("2.85"), Decimal("1.27"))
    given = analyse_gcode(path, diameter_mm=Decimal("1.75"), density_g_cm3=Decimal("1.24"))
    assert given.grams == Decimal("2.98")


def test_no_extrusion_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "G28\nG1 X10 Y10 F3000")
    with pytest.raises(GcodeError, match="no extrusion"):
        analyse_gcode(path)
