"""``printkiosk analyze FILE.gcode|.bgcode``: our figures beside the slicer's.

Recognised by content (the bgcode magic; a text file whose first command line is G-code)
or by extension (.gcode, .gco, .g, .bgcode). The price uses our grams (a header can be
edited; the moves are what the printer will do) and the slicer's time when it states one
(its planner models acceleration; ours only divides distances by feed rates).
"""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

GCODE_SUFFIXES = (".gcode", ".gco", ".g", ".bgcode")
_COMMAND = re.compile(rb"^\s*(?:[GMT]\d|;)")


def is_gcode(path: Path) -> bool:
    """G-code or bgcode, by extension or by the first bytes."""
    from analysis import is_bgcode

    if path.suffix.lower() in GCODE_SUFFIXES or is_bgcode(path):
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    if head.startswith((b"%PDF", b"%!", b"\x1b", b"PK")):
        return False
    lines = [line for line in head.splitlines()[:20] if line.strip()]
    return bool(lines) and all(_COMMAND.match(line) for line in lines[:-1] or lines)


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "not stated"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{hours}h " if hours else "") + f"{minutes}m {secs}s"


def _decimals(values: tuple[Decimal, ...] | None) -> list[str] | None:
    return None if values is None else [str(v) for v in values]


def as_json(result: Any) -> dict[str, Any]:
    figures = result.slicer
    box = result.bbox_mm
    return {
        "file": str(result.path),
        "format": result.format,
        "size_bytes": result.size_bytes,
        "ours": {
            "filament_mm": _decimals(result.filament_mm),
            "total_mm": str(result.total_mm),
            "volume_cm3": str(result.volume_cm3),
            "grams": str(result.grams),
            "time_s": result.our_time_s if result.time_source == "ours" else None,
            "layers": result.layers,
            "bbox_mm": None if box is None else [[str(v) for v in corner] for corner in box],
            "start_gcode_mm": str(result.start_gcode_mm),
            "as_the_slicer_counts_mm": (None if result.comparable_mm is None
                                        else str(result.comparable_mm)),
            "volumetric": result.volumetric,
        },
        "slicer": {
            "slicer": figures.slicer,
            "version": figures.version,
            "filament_mm": _decimals(figures.filament_mm),
            "filament_cm3": _decimals(figures.filament_cm3),
            "filament_g": _decimals(figures.filament_g),
            "time_s": figures.time_s,
            "diameter_mm": None if figures.diameter_mm is None else str(figures.diameter_mm),
            "density_g_cm3": (None if figures.density_g_cm3 is None
                              else str(figures.density_g_cm3)),
            "material": figures.material,
            "printer_model": figures.printer_model,
        },
        "diameter_mm": str(result.diameter_mm),
        "density_g_cm3": str(result.density_g_cm3),
        "price_uses": {"grams": str(result.grams), "grams_source": result.grams_source,
                       "time_s": result.time_s, "time_source": result.time_source},
    }


def _row(label: str, ours: str, theirs: str) -> str:
    return f"{label:<16}{ours:<22}{theirs}"


def print_text(result: Any) -> None:
    figures = result.slicer
    stated_mm = figures.filament_mm or ()
    print(f"file:           {result.path}")
    print(f"format:         {result.format} ({result.size_bytes} bytes)")
    print(f"slicer:         {figures.slicer or 'unknown'} {figures.version or ''}".rstrip())
    print(f"printer model:  {figures.printer_model or 'not stated'}")
    print(f"material:       {figures.material or 'not stated'}")
    print(_row("", "ours", "slicer's"))
    for tool, mm in enumerate(result.filament_mm):
        theirs = f"{stated_mm[tool]} mm" if tool < len(stated_mm) else "not stated"
        print(_row(f"filament T{tool}:", f"{mm} mm", theirs))
    total = f"{sum(stated_mm, Decimal(0))} mm" if stated_mm else "not stated"
    print(_row("filament:", f"{result.total_mm} mm", total))
    if result.comparable_mm is not None and result.comparable_mm != result.total_mm:
        print(_row("  as it counts:", f"{result.comparable_mm} mm",
                   f"(start G-code {result.start_gcode_mm} mm, E as written)"))
    cm3 = figures.filament_cm3
    print(_row("volume:", f"{result.volume_cm3} cm3",
               f"{sum(cm3, Decimal(0))} cm3" if cm3 else "not stated"))
    grams = figures.filament_g
    print(_row("weight:", f"{result.grams} g",
               f"{sum(grams, Decimal(0))} g" if grams else "not stated"))
    ours_time = _duration(result.our_time_s) if result.time_source == "ours" else "not estimated"
    print(_row("time:", ours_time, _duration(figures.time_s)))
    print(f"diameter:       {result.diameter_mm} mm   density: {result.density_g_cm3} g/cm3")
    print(f"layers:         {result.layers}")
    if result.bbox_mm is not None:
        (x0, y0, z0), (x1, y1, z1) = result.bbox_mm
        print(f"box:            X {x0}..{x1}  Y {y0}..{y1}  Z {z0}..{z1} mm")
    source = "the slicer" if result.time_source == "slicer" else "ours"
    print(f"price uses:     {result.grams} g (ours), {_duration(result.time_s)} ({source})")


def run(path: Path, as_json_output: bool) -> int:
    from analysis import GcodeError, analyse_gcode

    try:
        result = analyse_gcode(path)
    except GcodeError as error:
        where = f" at line {error.line}" if error.line is not None else ""
        where += f" in block {error.block}" if error.block is not None else ""
        print(f"printkiosk analyze: {error.path}: {error.reason}{where}", file=sys.stderr)
        return 2
    if as_json_output:
        print(json.dumps(as_json(result), indent=2))
    else:
        print_text(result)
    return 0
