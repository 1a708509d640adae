"""A 3D upload's analysis: run in a child process, kept as figures, checked for flags.

Why a child process: analysing a 200 MB G-code file takes seconds of pure Python; in the
server's process it would hold the GIL that every other request needs (the event loop
included). The child (spawned, so it shares nothing with the server) decodes a bgcode
upload to text and analyses the text file, the very file the printer will get, so the
byte offsets a printer reports later match the file the settlement measures. It runs
under a memory limit and a time limit and is killed past them.

The price uses OUR figures (a header can lie or be edited); the slicer's are kept
beside them and a difference over 5 % is flagged (``figures_disagree``).
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
from dataclasses import dataclass
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from analysis import GcodeAnalysis, GcodeError, analyse_gcode, decode_bgcode, grams_of, is_bgcode
from backend.config import Print3DGroup

CHILD_MEMORY_LIMIT = 1024 * 1024 * 1024
# Analyses at once per backend process (each a child of up to CHILD_MEMORY_LIMIT); more
# uploads wait their turn.
MAX_CONCURRENT = 2
_RUNNING = threading.BoundedSemaphore(MAX_CONCURRENT)
DISAGREE_FRACTION = Decimal("0.05")
GRAMS = Decimal("0.01")


class Malformed(Exception):
    """The file cannot be analysed: ``reason`` (one sentence) and where (``line``, 1-based,
    of the text G-code; or ``block``, 0-based, of a bgcode file)."""

    def __init__(self, reason: str, line: int | None = None, block: int | None = None) -> None:
        where = f" (line {line})" if line is not None else (
            f" (block {block})" if block is not None else "")
        super().__init__(f"{reason}{where}")
        self.reason = reason
        self.line = line
        self.block = block


@dataclass(frozen=True)
class Flag:
    code: str
    expected: str
    found: str
    blocks_release: bool

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "expected": self.expected, "found": self.found,
                "blocks_release": self.blocks_release}


def _child(conn: Connection, upload: str, text: str) -> None:
    """In the child: decode (bgcode) and analyse; send back the analysis or the error's
    facts (a GcodeError itself may not survive pickling)."""
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_LIMIT, CHILD_MEMORY_LIMIT))
    try:
        source = Path(upload)
        fmt = "bgcode" if is_bgcode(source) else "gcode"
        target = decode_bgcode(source, Path(text)) if fmt == "bgcode" else source
        conn.send(("ok", fmt, analyse_gcode(target)))
    except GcodeError as exc:
        conn.send(("malformed", exc.reason, exc.line, exc.block))
    except MemoryError:
        conn.send(("malformed", "the file needs more memory to analyse than allowed",
                   None, None))
    finally:
        conn.close()


def analyse_upload(upload: Path, text: Path, timeout_s: float) -> tuple[str, GcodeAnalysis]:
    """(format, analysis of the text G-code). A bgcode ``upload`` is decoded to ``text``
    first (the caller removes it on failure); a text upload is analysed where it is.
    Raises :class:`Malformed`."""
    with _RUNNING:
        return _analyse(upload, text, timeout_s)


def _analyse(upload: Path, text: Path, timeout_s: float) -> tuple[str, GcodeAnalysis]:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, str(upload), str(text)), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout_s):
            raise Malformed(f"the analysis took longer than {timeout_s:g} s")
        answer = receive.recv()
    except EOFError as exc:
        raise Malformed("the analysis failed (its process ended without an answer)") from exc
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join(timeout=5)
    if answer[0] == "malformed":
        raise Malformed(answer[1], answer[2], answer[3])
    return answer[1], answer[2]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _texts(values: tuple[Decimal, ...] | None) -> list[str] | None:
    return None if values is None else [str(v) for v in values]


def slicer_json(analysis: GcodeAnalysis) -> dict[str, Any]:
    figures = analysis.slicer
    return {
        "slicer": figures.slicer, "version": figures.version,
        "filament_mm": _texts(figures.filament_mm), "filament_cm3": _texts(figures.filament_cm3),
        "filament_g": _texts(figures.filament_g), "time_s": figures.time_s,
        "diameter_mm": _text(figures.diameter_mm), "density_g_cm3": _text(figures.density_g_cm3),
        "material": figures.material, "printer_model": figures.printer_model,
    }


def grams_with(analysis: GcodeAnalysis, group: Print3DGroup,
               material: str | None) -> tuple[Decimal, Decimal]:
    """(density, grams): the slicer's density when it states one, else the group's for
    the material, else the analysis's default."""
    density = analysis.density_g_cm3
    if analysis.slicer.density_g_cm3 is None:
        density = group.density_of(material) or density
    if density == analysis.density_g_cm3:
        return density, analysis.grams
    return density, grams_of(analysis.total_mm, analysis.diameter_mm, density).quantize(GRAMS)


def ours_json(analysis: GcodeAnalysis, density: Decimal, grams: Decimal) -> dict[str, Any]:
    bbox = None if analysis.bbox_mm is None else [[str(v) for v in corner]
                                                   for corner in analysis.bbox_mm]
    return {
        "filament_mm": _texts(analysis.filament_mm), "total_mm": str(analysis.total_mm),
        "diameter_mm": str(analysis.diameter_mm), "density_g_cm3": str(density),
        "volume_cm3": str(analysis.volume_cm3), "grams": str(grams),
        "layers": analysis.layers, "bbox_mm": bbox, "time_s": analysis.our_time_s,
        "volumetric": analysis.volumetric,
    }


def flags_of(analysis: GcodeAnalysis, group: Print3DGroup) -> list[Flag]:
    """What is wrong with sending this file to this group's printers."""
    flags: list[Flag] = []
    found_model = analysis.slicer.printer_model
    if (group.printer_model and found_model
            and found_model.strip().casefold() != group.printer_model.casefold()):
        flags.append(Flag("printer_model_mismatch", group.printer_model, found_model, True))
    material = analysis.slicer.material
    if material and material.strip().casefold() not in {m.casefold() for m in group.materials}:
        flags.append(Flag("material_not_loaded", ", ".join(group.materials), material, True))
    # Filament in mm when the slicer states it, else in grams (some state only those).
    # In mm, ours is counted the way that slicer counts its own (without the start
    # G-code's purge, before M221 flow...): else honest files would be flagged.
    stated_mm, stated_g = analysis.slicer.filament_mm, analysis.slicer.filament_g
    ours_mm = analysis.comparable_mm if analysis.comparable_mm is not None else analysis.total_mm
    pair = ((ours_mm, sum(stated_mm, Decimal(0)), "mm") if stated_mm
            else (analysis.grams, sum(stated_g, Decimal(0)), "g") if stated_g else None)
    if pair is not None:
        ours, theirs, unit = pair
        if theirs > 0 and abs(ours - theirs) > DISAGREE_FRACTION * theirs:
            flags.append(Flag("figures_disagree", f"{ours} {unit}", f"{theirs} {unit}", False))
    return flags


def material_of(analysis: GcodeAnalysis, group: Print3DGroup) -> str:
    """The material the job is priced in: the slicer's (spelt as the group spells it
    when loaded there), else the group's first loaded material."""
    stated = (analysis.slicer.material or "").strip()
    for loaded in group.materials:
        if loaded.casefold() == stated.casefold():
            return loaded
    return stated or group.materials[0]
