"""G-code analysis: filament per extruder, grams, layers, bounding box and time, streamed.

The file is read in binary chunks of about 1 % of its size (4 KiB .. 1 MiB), so memory
stays flat whatever the size and a checkpoint (byte offset, filament so far) falls about
every 1 %. Each chunk is cut at its "special" lines (found by their first characters, and
G0/G1 lines with Z by bytes.find); each run of plain G0/G1 lines between them is reduced
in C (findall, map(float), accumulate, max, min) with no Python loop per line. Special
lines (G2/G3 arcs, G92, G10/G11, M82/M83, M221, G90/G91, T<n>, line numbers, odd spacing,
lower case) and any segment with a number that does not parse go through the exact
interpreter (``Machine.command`` in analysis/gcode_machine.py), which also raises the
errors; this module adds the file and the line numbers.

See docs/gcode-analysis.md for the semantics (what counts as filament, a layer, the box).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from analysis.gcode_machine import LineFault, Machine
from analysis.gcode_model import (
    CM3,
    DEFAULT_DENSITY_G_CM3,
    DEFAULT_DIAMETER_MM,
    GcodeAnalysis,
    GcodeError,
    SlicerFigures,
    cross_section_mm2,
    grams_of,
    mm_decimal,
)
from analysis.gcode_slicers import Header, parse_header

MAX_LINE = 64 * 1024          # a longer "line" is not G-code (binary data, a lost newline)
MIN_CHUNK = 4 * 1024
MAX_CHUNK = 1024 * 1024
HEAD_BYTES = 128 * 1024       # where slicers write their header...
TAIL_BYTES = 256 * 1024       # ...and their footer (PrusaSlicer's config block is ~50 KiB)

_LAYER_MARKERS = (  # counted with bytes.count after a newline: C speed
    b"\n;LAYER_CHANGE",          # PrusaSlicer, Slic3r PE, SuperSlicer, OrcaSlicer
    b"\n; CHANGE_LAYER",         # Bambu Studio
    b"\n;LAYER:",                # Cura, ideaMaker
    b"\n; layer ",               # Simplify3D ("; layer 3, Z = 0.6")
    b"\n; BEGIN_LAYER_OBJECT",   # KISSlicer
)
# where the slicer's own part of the file begins: its first layer, or (Slic3r family) the
# filament start G-code it writes right after the printer's start G-code
_START_MARKERS = (*_LAYER_MARKERS, b"\n; Filament gcode")


# -- reading the file ------------------------------------------------------------------

def _comment_lines(data: bytes) -> list[str]:
    return [line[1:].decode("utf-8", "replace")
            for line in re.findall(rb"^[ \t]*(;[^\r\n]*)", data, re.M)]


def read_header(handle: BinaryIO, size: int) -> Header:
    """The slicer's figures from the comments of the first 128 KiB and the last 256 KiB."""
    handle.seek(0)
    if size <= HEAD_BYTES + TAIL_BYTES:
        comments = _comment_lines(handle.read())
    else:
        head = handle.read(HEAD_BYTES)
        handle.seek(size - TAIL_BYTES)
        tail = handle.read(TAIL_BYTES)
        comments = _comment_lines(head[: head.rfind(b"\n") + 1])
        comments += _comment_lines(tail[tail.find(b"\n") + 1:])
    handle.seek(0)
    return parse_header(comments)


def _long_line_at(body: bytes) -> int | None:
    """Offset of a line longer than MAX_LINE in ``body``, if any (windows, not a scan)."""
    step = MAX_LINE // 2
    for pos in range(0, len(body), step):
        if body.find(b"\n", pos, pos + step) < 0 and len(body) - pos >= step:
            start = body.rfind(b"\n", 0, pos) + 1
            end = body.find(b"\n", pos)
            end = len(body) if end < 0 else end
            if end - start > MAX_LINE:
                return start
    return None


def _find_line(body: bytes, marker: bytes) -> int:
    """Offset of the first line of ``body`` starting with ``marker`` (which begins with a
    newline), or -1."""
    if body.startswith(marker[1:]):
        return 0
    found = body.find(marker)
    return found + 1 if found >= 0 else -1


class _Stream:
    """Feeds a machine the lines of a file, chunk by chunk, with the line numbers."""

    def __init__(self, path: Path, machine: Machine, *, limit: int | None = None) -> None:
        self.path = path
        self.machine = machine
        self.limit = limit
        self.markers = [0] * len(_LAYER_MARKERS)
        self.checkpoints: list[tuple[int, tuple[float, ...]]] = []
        # the filament used (as written) when the slicer's first layer began: its start
        # G-code's prime and purge lines, which most slicers leave out of their total
        self.start_peaks: tuple[float, ...] | None = None

    def run(self, handle: BinaryIO, size: int) -> None:
        end = size if self.limit is None else min(size, max(self.limit, 0))
        chunk_size = min(MAX_CHUNK, max(MIN_CHUNK, size // 100))
        carry = b""
        lines_before = 0
        offset = 0  # file offset of carry's first byte
        read = 0
        handle.seek(0)
        while read < end:
            data = handle.read(min(chunk_size, end - read))
            if not data:
                break
            read += len(data)
            buffer = carry + data
            cut = buffer.rfind(b"\n") + 1
            if read >= end and (self.limit is None or read >= size):
                cut = len(buffer)  # the last line may lack its newline
            body, carry = buffer[:cut], buffer[cut:]
            if len(carry) > MAX_LINE:
                self._fail("a line is longer than 64 KiB (not G-code text)", lines_before + 1)
            if body:
                if not body.endswith(b"\n"):
                    body += b"\n"
                self._body(body, lines_before)
                lines_before += body.count(b"\n")
                offset += cut
                self.checkpoints.append((offset, tuple(self.machine.totals)))

    def _body(self, body: bytes, lines_before: int) -> None:
        nul = body.find(b"\x00")
        if nul >= 0:
            self._fail("NUL byte: this is binary data, not G-code text",
                       lines_before + body.count(b"\n", 0, nul) + 1)
        if len(body) > MAX_LINE and (long := _long_line_at(body)) is not None:
            self._fail("a line is longer than 64 KiB (not G-code text)",
                       lines_before + body.count(b"\n", 0, long) + 1)
        comments = b";" in body  # every marker is a comment: none, no pass for each
        if comments:
            for index, marker in enumerate(_LAYER_MARKERS):
                self.markers[index] += body.count(marker) + body.startswith(marker[1:])
        starts = [p for p in (_find_line(body, m) for m in _START_MARKERS) if p >= 0] \
            if self.start_peaks is None and comments else []
        if starts:
            first = min(starts)
            self._feed(body[:first], lines_before)
            self.start_peaks = tuple(self.machine.raw_totals)
            self._feed(body[first:], lines_before + body.count(b"\n", 0, first))
        else:
            self._feed(body, lines_before)

    def _feed(self, body: bytes, lines_before: int) -> None:
        if not body:
            return
        try:
            # with layer markers, layers are counted from them: a Z need not cut a segment
            self.machine.chunk(body, z_plain=any(self.markers))
        except LineFault as fault:
            self._fail(str(fault), lines_before + fault.index + 1)

    def _fail(self, reason: str, line: int) -> None:
        raise GcodeError(self.path, reason, line=line)

    def layers(self) -> int:
        """The slicer's layer markers when it writes them, else the Z heights extruded at."""
        for count in self.markers:
            if count:
                return count
        return len(self.machine.layer_zs)


def _run(path: Path, *, timed: bool, limit: int | None = None) -> tuple[Machine, _Stream, int]:
    machine = Machine(timed=timed)
    stream = _Stream(path, machine, limit=limit)
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            stream.run(handle, size)
    except OSError as exc:
        raise GcodeError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    return machine, stream, size


def _per_tool_mm(machine: Machine, volumetric_diameter: Decimal | None) -> tuple[Decimal, ...]:
    return _per_tool_mm_of(machine.totals, volumetric_diameter)


def _per_tool_mm_of(totals: Sequence[float],
                    volumetric_diameter: Decimal | None) -> tuple[Decimal, ...]:
    values = tuple(mm_decimal(max(v, 0.0)) for v in totals)
    if volumetric_diameter is None:
        return values
    area = cross_section_mm2(volumetric_diameter)
    return tuple((v / area).quantize(Decimal("0.01")) for v in values)


def _header_of(path: Path) -> tuple[Header, int]:
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            return read_header(handle, size), size
    except OSError as exc:
        raise GcodeError(path, f"cannot read the file: {exc.strerror or exc}") from exc


def _decimal_box(box: list[float]) -> tuple[tuple[Decimal, Decimal, Decimal],
                                            tuple[Decimal, Decimal, Decimal]] | None:
    if not all(math.isfinite(v) for v in box):
        return None
    low = (mm_decimal(box[0]), mm_decimal(box[1]), mm_decimal(box[2]))
    high = (mm_decimal(box[3]), mm_decimal(box[4]), mm_decimal(box[5]))
    return low, high


def analyse_text(path: Path, *, diameter_mm: Decimal | None = None,
                 density_g_cm3: Decimal | None = None, header: Header | None = None,
                 file_format: str = "gcode", size_bytes: int | None = None,
                 estimate_time: bool | None = None) -> GcodeAnalysis:
    """Analyse a text G-code file (``header`` given when the figures come from elsewhere,
    as the metadata blocks of a bgcode file). Our time estimate runs the exact (slow)
    interpreter, so by default only when the slicer states no time."""
    own_header, size = _header_of(path)
    header = header or own_header
    figures = header.figures
    timed = figures.time_s is None if estimate_time is None else estimate_time
    machine, stream, size = _run(path, timed=timed)
    diameter = (diameter_mm or figures.diameter_mm or header.implied_diameter
                or DEFAULT_DIAMETER_MM)
    density = density_g_cm3 or figures.density_g_cm3 or DEFAULT_DENSITY_G_CM3
    volumetric = header.volumetric or machine.m200_diameter is not None
    per_tool = _per_tool_mm(machine, diameter if volumetric else None)
    start = _per_tool_mm_of(stream.start_peaks or (), diameter if volumetric else None)
    comparable = _comparable(figures, machine, start, diameter if volumetric else None)
    total = sum(per_tool, Decimal("0.00"))
    if total <= 0:
        raise GcodeError(path, "no extrusion: the file moves no filament")
    if volumetric:
        volume = (Decimal(f"{max(machine.total(), 0.0):.4f}") / 1000).quantize(CM3)
        # E was mm3: the volume is what the file says, the length derived from it
    else:
        volume = (total * cross_section_mm2(diameter) / 1000).quantize(CM3)
    grams = grams_of(total, diameter, density)
    our_time = round(machine.seconds)
    checkpoints = tuple(
        (offset, sum(_per_tool_mm_of(totals, diameter if volumetric else None), Decimal("0.00")))
        for offset, totals in stream.checkpoints)
    return GcodeAnalysis(
        path=path, format=file_format, size_bytes=size_bytes if size_bytes is not None else size,
        filament_mm=per_tool, total_mm=total, diameter_mm=diameter, density_g_cm3=density,
        volume_cm3=volume, grams=grams, layers=stream.layers(),
        bbox_mm=_decimal_box(machine.box),
        time_s=figures.time_s if figures.time_s is not None else our_time,
        time_source="slicer" if figures.time_s is not None else "ours",
        our_time_s=our_time, slicer=figures, volumetric=volumetric, checkpoints=checkpoints,
        start_gcode_mm=sum(start, Decimal("0.00")), comparable_mm=comparable,
    )


def _comparable(figures: SlicerFigures, machine: Machine, start: tuple[Decimal, ...],
                volumetric_diameter: Decimal | None) -> Decimal:
    """Our filament counted the way this slicer counts its own (docs/gcode-analysis.md):
    E as written (M221 flow overrides are the firmware's, not the slicer's); without the
    start G-code, except PrusaSlicer >= 2.3 and its descendants, whose G-code processor
    reads the whole output; KISSlicer states the net E deposited (each path's destring
    prime is retracted again at its end), not the peak."""
    if figures.slicer == "KISSlicer":
        return sum(_per_tool_mm_of(machine.raw_nets, volumetric_diameter), Decimal("0.00"))
    total = sum(_per_tool_mm_of(machine.raw_totals, volumetric_diameter), Decimal("0.00"))
    if _counts_start_gcode(figures):
        return total
    return total - sum(start, Decimal("0.00"))


def _counts_start_gcode(figures: SlicerFigures) -> bool:
    if figures.slicer in ("OrcaSlicer", "BambuStudio"):
        return True
    if figures.slicer in ("PrusaSlicer", "SuperSlicer") and figures.version:
        match = re.match(r"(\d+)\.(\d+)", figures.version)
        return match is not None and (int(match.group(1)), int(match.group(2))) >= (2, 3)
    return False


def analyse_gcode(path: Path, *, diameter_mm: Decimal | None = None,
                  density_g_cm3: Decimal | None = None,
                  estimate_time: bool | None = None) -> GcodeAnalysis:
    """Our figures for a .gcode (.gco, .g) or .bgcode file (detected by its magic).

    ``estimate_time``: None (default) runs our estimate only when the slicer states no
    time; True always (``our_time_s``), False never (``our_time_s`` is then 0)."""
    from analysis.bgcode import analyse_bgcode, is_bgcode

    path = Path(path)
    if is_bgcode(path):
        return analyse_bgcode(path, diameter_mm=diameter_mm, density_g_cm3=density_g_cm3,
                              estimate_time=estimate_time)
    return analyse_text(path, diameter_mm=diameter_mm, density_g_cm3=density_g_cm3,
                        estimate_time=estimate_time)


def filament_up_to(path: Path, offset: int) -> tuple[Decimal, ...]:
    """Our filament per extruder for the text G-code read up to byte ``offset`` (what a
    printer had extruded when it reported that file position). Text G-code only.

    Only complete lines count: a line is executed once the printer has read its newline.
    """
    from analysis.bgcode import is_bgcode

    path = Path(path)
    if is_bgcode(path):
        raise GcodeError(path, "filament_up_to reads text G-code; decode the bgcode first")
    header, _size = _header_of(path)
    machine, _stream, _size = _run(path, timed=False, limit=offset)
    diameter = header.figures.diameter_mm or header.implied_diameter or DEFAULT_DIAMETER_MM
    volumetric = header.volumetric or machine.m200_diameter is not None
    return _per_tool_mm(machine, diameter if volumetric else None)


__all__ = ["GcodeAnalysis", "GcodeError", "SlicerFigures", "analyse_gcode", "filament_up_to",
           "grams_of"]
