"""G-code analysis: filament per extruder, grams, layers, bounding box and time, streamed.

The file is read in binary chunks of about 1 % of its size (4 KiB .. 1 MiB), so memory
stays flat whatever the size and a checkpoint (byte offset, filament so far) falls about
every 1 %. Each chunk is cut at its "special" lines (found by their first characters, and
G0/G1 lines with Z by bytes.find); each run of plain G0/G1 lines between them is reduced
in C (findall, map(float), accumulate, max, min) with no Python loop per line. Special
lines (G2/G3 arcs, G92, G10/G11, M82/M83, M221, G90/G91, T<n>, line numbers, odd spacing,
lower case) and any segment with a number that does not parse go through the exact
interpreter (:class:`_Machine.command`), which also raises the errors with their lines.

See docs/gcode-analysis.md for the semantics (what counts as filament, a layer, the box).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from typing import BinaryIO

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
DEFAULT_RETRACT_MM = 3.0      # Marlin's RETRACT_LENGTH when no M207 set one
DEFAULT_FEED_MM_MIN = 1500.0

# a "special" line: anything but a plain G0/G1 without Z, a comment, a blank line or an
# inert command (every M but M82/M83/M200/M207/M208/M221); matched after its newline by
# its first characters only (G0/G1 lines with a Z are found apart, by bytes.find)
_SPECIAL = re.compile(rb"\n(?:[^GM;\n]|G(?![01] )|M(?:8[23]|20[078]|221)(?![0-9]))[^\n]*")
_SEG_E = re.compile(rb"\nG[01] [^\n;E]*E([^\s;]*)")
_SEG_X = re.compile(rb"\nG[01] [^\n;X]*X([^\s;]*)[^\n;E]*E")
_SEG_Y = re.compile(rb"\nG[01] [^\n;Y]*Y([^\s;]*)[^\n;E]*E")
_SEG_MOVE = re.compile(
    rb"\nG[01](?: +F([-+.\d]+))?(?: +X([-+.\d]+))?(?: +Y([-+.\d]+))?(?: +Z([-+.\d]+))?"
    rb"(?: +E([-+.\d]+))?(?: +F([-+.\d]+))?[ \t]*(?:;[^\n]*)?(?=\r?\n|$)"
)
_SEG_Z = re.compile(rb"\nG[01] [^\n;Z]*Z([^\s;]*)[^\n;E]*E")
_WORD = re.compile(rb"([A-Za-z])[ \t]*([^A-Za-z \t;]*)")
_LAYER_MARKERS = (  # counted with bytes.count after a newline: C speed
    b"\n;LAYER_CHANGE",          # PrusaSlicer, Slic3r PE, SuperSlicer, OrcaSlicer
    b"\n; CHANGE_LAYER",         # Bambu Studio
    b"\n;LAYER:",                # Cura, ideaMaker
    b"\n; layer ",               # Simplify3D ("; layer 3, Z = 0.6")
    b"\n; BEGIN_LAYER_OBJECT",   # KISSlicer
)


_INTERPRETED = {
    (head, code)
    for head, codes in ((b"G", (b"0", b"1", b"2", b"3", b"4", b"10", b"11", b"20", b"21", b"28",
                                b"90", b"91", b"92")),
                        (b"M", (b"82", b"83", b"200", b"207", b"208", b"221")))
    for number in codes
    for code in (number, b"0" + number if len(number) == 1 else number)
}


# where the slicer's own part of the file begins: its first layer, or (Slic3r family) the
# filament start G-code it writes right after the printer's start G-code
_START_MARKERS = (*_LAYER_MARKERS, b"\n; Filament gcode")


class _LineFault(Exception):
    """Raised by the slow path; the chunk loop adds the file and the line number."""

    index = 0  # the line's index in its chunk


def _number(word: bytes, value: bytes) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _LineFault(f"{word.decode('ascii', 'replace')} has no valid number "
                         f"({value.decode('ascii', 'replace')!r})") from None
    if not math.isfinite(number):
        raise _LineFault(f"{word.decode('ascii', 'replace')} is not a finite number")
    return number


class _Machine:
    """The printer's state as the G-code drives it, and what we have counted so far.

    Positions and E are floats while streaming (speed); results become Decimal at the
    end, rounded to 0.01 mm, well above the accumulated float error (< 1e-6 mm).
    """

    def __init__(self, *, timed: bool) -> None:
        self.timed = timed
        self.x = self.y = self.z = 0.0
        self.e = 0.0                   # the E axis position (absolute coordinates)
        self.rel_e = False             # M83
        self.rel_xyz = False           # G91 (also makes E relative, as in Marlin 1.x)
        self.inches = False
        self.tool = 0
        self.nets = [0.0]              # net E per tool (mm, or mm3 when volumetric)...
        self.totals = [0.0]            # ...and its peak: the filament pulled off the spool
        self.raw_nets = [0.0]          # the same as written, without M221 flow: what
        self.raw_totals = [0.0]        # slicers count
        self.retract = DEFAULT_RETRACT_MM
        self.recover_extra = 0.0
        self.retracted = 0.0           # a G10 not yet undone by G11
        self.feed = DEFAULT_FEED_MM_MIN
        self.seconds = 0.0
        self.box = [math.inf, math.inf, math.inf, -math.inf, -math.inf, -math.inf]
        self.layer_zs: set[float] = set()
        self.last_layer_z = math.nan
        self.m200_diameter: float | None = None  # M200 D<d> before any extrusion: E in mm3
        self.flow: dict[int, float] = {}       # M221 per tool (1.0 when never set)
        self.line = b""                        # the slow path's current line, for errors
        self.z_plain = False                   # Z lines inside segments (layer markers)

    # -- bookkeeping shared by the fast and the slow path ------------------------------
    def total(self) -> float:
        return sum(self.totals)

    def _extrude(self, delta: float) -> None:
        """Net E moves by ``delta``; what is retracted and pushed back out is counted once."""
        self._grow()
        tool = self.tool
        raw = self.raw_nets[tool] + delta
        self.raw_nets[tool] = raw
        self.raw_totals[tool] = max(self.raw_totals[tool], raw)
        net = self.nets[tool] + delta * self.flow.get(tool, 1.0)
        self.nets[tool] = net
        if net > self.totals[tool]:
            self.totals[tool] = net
            self._raised()

    def _raised(self) -> None:
        """New filament left the spool at the current Z: that Z is a layer."""
        z = self.z
        if z != self.last_layer_z:
            self.last_layer_z = z
            self.layer_zs.add(round(z, 3))
            box = self.box
            box[2] = min(box[2], z)
            box[5] = max(box[5], z)

    def _grow(self) -> None:
        while len(self.totals) <= self.tool:
            self.totals.append(0.0)
            self.nets.append(0.0)
            self.raw_totals.append(0.0)
            self.raw_nets.append(0.0)

    def _include(self, x: float, y: float) -> None:
        box = self.box
        box[0] = min(box[0], x)
        box[3] = max(box[3], x)
        box[1] = min(box[1], y)
        box[4] = max(box[4], y)

    # -- the slow path: any line the fast regex did not take -------------------------
    def command(self, raw: bytes) -> None:
        line = raw.split(b";", 1)[0].strip()
        if not line:
            return
        self.line = line
        if b"(" in line:  # RS274 "(comment)" style
            line = re.sub(rb"\([^)]*\)", b"", line).strip()
            if not line:
                return
        if line.startswith((b"N", b"n")):  # line number and checksum of a host protocol
            line = re.sub(rb"^[Nn]\d+\s*", b"", line.split(b"*", 1)[0]).strip()
        words: dict[bytes, float] = {}
        pairs = _WORD.findall(line)
        if not pairs or not line[:1].isalpha():
            raise _LineFault("not a G-code command")
        head, code = pairs[0]
        head = head.upper()
        if head == b"T" and code.isdigit():
            self.tool = int(code)
            return
        if head not in (b"G", b"M") or not code.replace(b".", b"", 1).isdigit():
            raise _LineFault("not a G-code command")
        if (head, code) not in _INTERPRETED:
            return  # M862.3 P "MK4S", M117 messages...: nothing we count, so not parsed
        if b"".join(w + v for w, v in pairs) != re.sub(rb"[ \t]+", b"", line):
            raise _LineFault("not a G-code command")
        for word, value in pairs[1:]:
            key = word.upper()
            if value:
                words[key] = _number(key, value)
            else:
                words.setdefault(key, math.nan)
        number = float(code)
        if head == b"G":
            self._g(number, words)
        else:
            self._m(number, words)

    def _axis(self, words: dict[bytes, float], key: bytes) -> float | None:
        value = words.get(key)
        if value is None or math.isnan(value):
            if value is not None and key in (b"X", b"Y", b"Z", b"E"):
                token = re.search(rb"[" + key + key.lower() + rb"]([^\s;]*)", self.line)
                text = token.group(1).decode("ascii", "replace") if token else ""
                raise _LineFault(f"{key.decode()} has no valid number ({text!r})")
            return None
        return value * 25.4 if self.inches else value

    def _g(self, number: float, words: dict[bytes, float]) -> None:
        if number in (0.0, 1.0, 2.0, 3.0):
            self._move(int(number), words)
        elif number == 92.0:
            x, y, z, e = (self._axis(words, k) for k in (b"X", b"Y", b"Z", b"E"))
            if x is None and y is None and z is None and e is None:
                self.x = self.y = self.z = self.e = 0.0
            else:
                self.x = self.x if x is None else x
                self.y = self.y if y is None else y
                self.z = self.z if z is None else z
                self.e = self.e if e is None else e
        elif number == 90.0:
            self.rel_xyz = False
        elif number == 91.0:
            self.rel_xyz = True
        elif number == 10.0:
            if b"P" in words or b"L" in words:  # RRF/Marlin tool offsets, not a retraction
                return
            if not self.retracted:
                self.retracted = self.retract
                self._extrude(-self.retract)
        elif number == 11.0:
            if self.retracted:
                self._extrude(self.retracted + self.recover_extra)
                self.retracted = 0.0
        elif number == 28.0:
            axes = [k for k in (b"X", b"Y", b"Z") if k in words]
            for key in axes or [b"X", b"Y", b"Z"]:
                setattr(self, key.decode().lower(), 0.0)
        elif number == 20.0:
            self.inches = True
        elif number == 21.0:
            self.inches = False
        elif number == 4.0 and self.timed:
            self.seconds += words.get(b"S", 0.0) + words.get(b"P", 0.0) / 1000

    def _m(self, number: float, words: dict[bytes, float]) -> None:
        if number == 82.0:
            self.rel_e = False
        elif number == 83.0:
            self.rel_e = True
        elif number == 200.0 and not math.isnan(words.get(b"D", math.nan)):
            if not any(self.totals):
                self.m200_diameter = words[b"D"] or None
        elif number == 207.0 and not math.isnan(words.get(b"S", math.nan)):
            self.retract = words[b"S"]
        elif number == 208.0 and not math.isnan(words.get(b"S", math.nan)):
            self.recover_extra = words[b"S"]
        elif number == 221.0 and not math.isnan(words.get(b"S", math.nan)):
            # the firmware's flow percentage: what the extruder really pushes is E x S/100
            tool = words.get(b"T", math.nan)
            self.flow[self.tool if math.isnan(tool) else int(tool)] = words[b"S"] / 100

    def _move(self, kind: int, words: dict[bytes, float]) -> None:
        feed = words.get(b"F")
        if feed is not None and not math.isnan(feed) and feed > 0:
            self.feed = feed * 25.4 if self.inches else feed
        x, y, z, e = (self._axis(words, k) for k in (b"X", b"Y", b"Z", b"E"))
        sx, sy, sz = self.x, self.y, self.z
        if self.rel_xyz:
            self.x += x or 0.0
            self.y += y or 0.0
            self.z += z or 0.0
        else:
            self.x = sx if x is None else x
            self.y = sy if y is None else y
            self.z = sz if z is None else z
        delta = 0.0
        if e is not None:
            if self.rel_e or self.rel_xyz:
                delta = e
                self.e += e
            else:
                delta = e - self.e
                self.e = e
            self._extrude(delta)
        length = math.dist((sx, sy, sz), (self.x, self.y, self.z))
        if kind in (2, 3):
            length = self._arc(kind, sx, sy, words, e is not None)
        elif e is not None:  # the box: X/Y written on moves that carry E (as the fast path)
            self._box_xy([self.x] if x is not None else [], [self.y] if y is not None else [])
        if self.timed:
            self.seconds += max(length, abs(delta)) / self.feed * 60

    def _arc(self, kind: int, sx: float, sy: float, words: dict[bytes, float],
             extrudes: bool) -> float:
        """G2 (clockwise) / G3: the arc's XY extent goes into the box when it extrudes."""
        ex, ey = self.x, self.y
        i, j, r = (self._axis(words, k) for k in (b"I", b"J", b"R"))
        if i is None and j is None:
            if r is None:
                raise _LineFault("an arc needs I/J or R")
            chord = math.dist((sx, sy), (ex, ey))
            if chord == 0 or abs(r) < chord / 2 - 1e-9:
                raise _LineFault("the arc's radius is shorter than half its chord")
            h = math.sqrt(max(r * r - chord * chord / 4, 0.0))
            mx, my = (sx + ex) / 2, (sy + ey) / 2
            ux, uy = (ey - sy) / chord, -(ex - sx) / chord
            # R>0: the shorter arc; which side the centre lies on depends on the direction
            side = 1.0 if (kind == 2) == (r > 0) else -1.0
            cx, cy = mx + side * h * ux, my + side * h * uy
        else:
            cx, cy = sx + (i or 0.0), sy + (j or 0.0)
        radius = math.dist((sx, sy), (cx, cy))
        a0 = math.atan2(sy - cy, sx - cx)
        a1 = math.atan2(ey - cy, ex - cx)
        sweep = (a0 - a1) if kind == 2 else (a1 - a0)
        sweep %= 2 * math.pi
        if sweep <= 1e-12:
            sweep = 2 * math.pi  # same start and end point: a full circle
        if extrudes:
            self._include(ex, ey)
            for quarter in range(4):  # the axis crossings inside the sweep
                angle = quarter * math.pi / 2
                offset = ((a0 - angle) if kind == 2 else (angle - a0)) % (2 * math.pi)
                if offset <= sweep:
                    self._include(cx + radius * math.cos(angle), cy + radius * math.sin(angle))
        return radius * sweep

    # -- the fast path ----------------------------------------------------------------
    def chunk(self, data: bytes, *, z_plain: bool = False) -> None:
        """Every complete line of ``data`` (which ends with a newline).

        The chunk is cut at its "special" lines (anything but a plain G0/G1 without Z, a
        comment or an inert command); each run of plain lines between them is a segment
        whose E values, peak and X/Y extents are computed by C code (regex, map, max,
        accumulate) with no Python-level loop per line.
        """
        if self.rel_xyz or self.inches:
            self._slow_chunk(data, 0)
            return
        body = b"\n" + data
        pos = 0
        self.z_plain = z_plain
        for start, end in _specials(body, z_lines=not z_plain):
            if start > pos:
                self._segment(body, pos, start)
            try:
                self.command(body[start + 1:end])
            except _LineFault as fault:
                fault.index = body.count(b"\n", 0, start)
                raise
            pos = end
            if self.rel_xyz or self.inches:  # G91 / G20: the rest of the chunk goes slowly
                self._slow_chunk(body[end + 1:], body.count(b"\n", 0, end))
                return
        if pos < len(body):
            self._segment(body, pos, len(body))

    def _segment(self, body: bytes, pos: int, end: int) -> None:
        """Plain G0/G1 lines between two special lines: body[pos:end]. Z is constant in
        it, unless ``z_plain`` (the file has layer markers: Z lines need not cut it)."""
        found = _SEG_E.findall(body, pos, end)
        zs: list[float] = []
        try:
            position = self._last_position(body, pos, end)
            if self.timed and not self._time_segment(body, pos, end):
                self._slow_chunk(body[pos + 1:end + 1], body.count(b"\n", 0, pos))
                return
            if found:
                if self.rel_e:
                    cumulative = list(accumulate(map(float, found), initial=0.0))
                else:
                    values = list(map(float, found))
                xs = list(map(float, _SEG_X.findall(body, pos, end)))
                ys = list(map(float, _SEG_Y.findall(body, pos, end)))
                if self.z_plain:
                    zs = list(map(float, _SEG_Z.findall(body, pos, end)))
        except ValueError:
            self._slow_chunk(body[pos + 1:end + 1], body.count(b"\n", 0, pos))
            return
        if found:
            self._grow()
            tool = self.tool
            net, peak = self.nets[tool], self.totals[tool]
            flow = self.flow.get(tool, 1.0)
            if self.rel_e:
                rise, advance = max(cumulative), cumulative[-1]
                self.e += advance
            else:
                e0 = self.e
                rise, advance = max(values) - e0, values[-1] - e0
                self.e = values[-1]
            top = net + flow * rise
            net += flow * advance
            raw = self.raw_nets[tool]
            self.raw_totals[tool] = max(self.raw_totals[tool], raw + rise)
            self.raw_nets[tool] = raw + advance
            self.nets[tool] = net
            if top > peak:
                self.totals[tool] = top
                self._raised()
                if zs:
                    self.box[2] = min(self.box[2], min(zs))
                    self.box[5] = max(self.box[5], max(zs))
            if xs or ys:
                self._box_xy(xs, ys)
        self.x, self.y, self.z = position

    def _box_xy(self, xs: list[float], ys: list[float]) -> None:
        box = self.box
        if xs:
            box[0] = min(box[0], min(xs))
            box[3] = max(box[3], max(xs))
        if ys:
            box[1] = min(box[1], min(ys))
            box[4] = max(box[4], max(ys))

    def _time_segment(self, body: bytes, pos: int, end: int) -> bool:
        """Our time estimate over a segment, as the exact path computes it (distance, or
        the E length of an E-only move, over the modal feed rate); one regex gives the
        words of each move in the order slicers write them, and a line in another order
        (False) sends the segment to the exact path. No state changes but time and feed."""
        moves = _SEG_MOVE.findall(body, pos, end)
        if len(moves) != body.count(b"\nG1 ", pos, end) + body.count(b"\nG0 ", pos, end):
            return False
        x, y, z, e, feed = self.x, self.y, self.z, self.e, self.feed
        rel_e = self.rel_e
        seconds = 0.0
        hypot = math.hypot
        for f1, sx, sy, sz, se, f2 in moves:
            nx = float(sx) if sx else x
            ny = float(sy) if sy else y
            nz = float(sz) if sz else z
            if f1 or f2:
                value = float(f2 or f1)
                if value > 0:
                    feed = value
            length = hypot(nx - x, ny - y, nz - z)
            if se:
                value = float(se)
                delta = value if rel_e else value - e
                e = e + value if rel_e else value
                if abs(delta) > length:
                    length = abs(delta)
            seconds += length / feed
            x, y, z = nx, ny, nz
        self.seconds += seconds * 60
        self.feed = feed
        return True

    def _last_position(self, body: bytes, pos: int, end: int) -> tuple[float, float, float]:
        """X, Y (and Z when ``z_plain``) after the segment: the last ones written, usually
        on its last line. ValueError on a number that does not parse."""
        found: dict[bytes, float] = {}
        line_end = end
        while len(found) < 2 and line_end > pos:
            line_start = body.rfind(b"\n", pos, line_end)
            if line_start < 0:
                break
            line = body[line_start + 1:line_end]
            line_end = line_start
            if line.startswith((b"G1 ", b"G0 ")):
                for word in reversed(line.split(b";", 1)[0].split()):
                    axis = word[:1]
                    if axis in (b"X", b"Y") and axis not in found:
                        found[axis] = float(word[1:])
        z = self._last_z(body, pos, end) if self.z_plain else self.z
        return found.get(b"X", self.x), found.get(b"Y", self.y), z

    def _last_z(self, body: bytes, pos: int, end: int) -> float:
        """The last Z written on a G0/G1 line of the segment (a Z is rare there: once a
        layer, so look for the letter backwards rather than read every line)."""
        at = body.rfind(b"Z", pos, end)
        while at > pos:
            line_start = body.rfind(b"\n", pos, at)
            if body.startswith((b"\nG1 ", b"\nG0 "), line_start) and \
                    b";" not in body[line_start:at]:
                line_end = body.find(b"\n", at)
                word = body[at + 1:line_end if line_end >= 0 else end].split(b";", 1)[0]
                return float(word.split()[0] if word.split() else b"")
            at = body.rfind(b"Z", pos, line_start)
        return self.z

    def _slow_chunk(self, data: bytes, lines_before: int) -> None:
        """Line by line through the exact interpreter (the time estimate, G91, G20)."""
        for index, line in enumerate(data.split(b"\n")):
            try:
                self.command(line)
            except _LineFault as fault:
                fault.index = lines_before + index
                raise


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


def _specials(body: bytes, *, z_lines: bool) -> list[tuple[int, int]]:
    """(start, end) of each special line of ``body`` (start: its preceding newline), in
    order: those the regex finds by their first characters, and the G0/G1 lines with a Z
    word (a layer change: rare, so a find loop costs less than a regex on every line)."""
    spans = [match.span() for match in _SPECIAL.finditer(body)]
    if not z_lines:
        return spans
    z_spans = []
    at = body.find(b"Z")
    while at >= 0:
        start = body.rfind(b"\n", 0, at)
        end = body.find(b"\n", at)
        end = len(body) if end < 0 else end
        if body.startswith((b"G1 ", b"G0 "), start + 1) and b";" not in body[start:at]:
            z_spans.append((start, end))
        at = body.find(b"Z", end)
    return sorted(spans + z_spans) if z_spans else spans


def _find_line(body: bytes, marker: bytes) -> int:
    """Offset of the first line of ``body`` starting with ``marker`` (which begins with a
    newline), or -1."""
    if body.startswith(marker[1:]):
        return 0
    found = body.find(marker)
    return found + 1 if found >= 0 else -1


class _Stream:
    """Feeds a machine the lines of a file, chunk by chunk, with the line numbers."""

    def __init__(self, path: Path, machine: _Machine, *, limit: int | None = None) -> None:
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
        for index, marker in enumerate(_LAYER_MARKERS):
            self.markers[index] += body.count(marker) + body.startswith(marker[1:])
        starts = [p for p in (_find_line(body, m) for m in _START_MARKERS) if p >= 0] \
            if self.start_peaks is None else []
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
        except _LineFault as fault:
            self._fail(str(fault), lines_before + fault.index + 1)

    def _fail(self, reason: str, line: int) -> None:
        raise GcodeError(self.path, reason, line=line)

    def layers(self) -> int:
        """The slicer's layer markers when it writes them, else the Z heights extruded at."""
        for count in self.markers:
            if count:
                return count
        return len(self.machine.layer_zs)


def _run(path: Path, *, timed: bool, limit: int | None = None) -> tuple[_Machine, _Stream, int]:
    machine = _Machine(timed=timed)
    stream = _Stream(path, machine, limit=limit)
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            stream.run(handle, size)
    except OSError as exc:
        raise GcodeError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    return machine, stream, size


def _per_tool_mm(machine: _Machine, volumetric_diameter: Decimal | None) -> tuple[Decimal, ...]:
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


def _comparable(figures: SlicerFigures, machine: _Machine, start: tuple[Decimal, ...],
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
