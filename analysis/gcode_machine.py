"""The exact G-code interpreter and the fast segment reduction it shares state with.

:class:`Machine` holds the printer's state as the G-code drives it (position, E axis and
its mode, tool, firmware retraction, flow, feed) and what has been counted (net E and its
peak per tool, as written and with M221 flow; layer heights; the box; our time).
``Machine.chunk`` takes complete lines: it cuts them at their special lines, sends those
through ``Machine.command`` (the exact interpreter, which raises :class:`LineFault`) and
reduces each run of plain G0/G1 lines in C. analysis/gcode.py streams a file into it.
"""

from __future__ import annotations

import math
import re
from itertools import accumulate

from analysis.gcode_fast import extremes, uniform_words

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

_INTERPRETED = {
    (head, code)
    for head, codes in ((b"G", (b"0", b"1", b"2", b"3", b"4", b"10", b"11", b"20", b"21", b"28",
                                b"90", b"91", b"92")),
                        (b"M", (b"82", b"83", b"200", b"207", b"208", b"221")))
    for number in codes
    for code in (number, b"0" + number if len(number) == 1 else number)
}



class LineFault(Exception):
    """Raised by the slow path; the chunk loop adds the file and the line number."""

    index = 0  # the line's index in its chunk


def _number(word: bytes, value: bytes) -> float:
    try:
        number = float(value)
    except ValueError:
        raise LineFault(f"{word.decode('ascii', 'replace')} has no valid number "
                         f"({value.decode('ascii', 'replace')!r})") from None
    if not math.isfinite(number):
        raise LineFault(f"{word.decode('ascii', 'replace')} is not a finite number")
    return number


class Machine:
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
            raise LineFault("not a G-code command")
        head, code = pairs[0]
        head = head.upper()
        if head == b"T" and code.isdigit():
            self.tool = int(code)
            return
        if head not in (b"G", b"M") or not code.replace(b".", b"", 1).isdigit():
            raise LineFault("not a G-code command")
        if (head, code) not in _INTERPRETED:
            return  # M862.3 P "MK4S", M117 messages...: nothing we count, so not parsed
        if b"".join(w + v for w, v in pairs) != re.sub(rb"[ \t]+", b"", line):
            raise LineFault("not a G-code command")
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
                raise LineFault(f"{key.decode()} has no valid number ({text!r})")
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
                raise LineFault("an arc needs I/J or R")
            chord = math.dist((sx, sy), (ex, ey))
            if chord == 0 or abs(r) < chord / 2 - 1e-9:
                raise LineFault("the arc's radius is shorter than half its chord")
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
            except LineFault as fault:
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
        words = uniform_words(body, pos, end)
        if words is None:
            found = _SEG_E.findall(body, pos, end)
        else:
            found, x_words, y_words = words
        zs: list[float] = []
        try:
            position = self._last_position(body, pos, end)
            if self.timed and not self._time_segment(body, pos, end):
                self._slow_chunk(body[pos + 1:end + 1], body.count(b"\n", 0, pos))
                return
            if found:
                if self.rel_e and b"-" not in b"".join(found):
                    # nothing retracted: the peak is the end, one sum and no prefix list
                    advance = rise = sum(map(float, found))
                elif self.rel_e:
                    cumulative = list(accumulate(map(float, found), initial=0.0))
                    rise, advance = max(cumulative), cumulative[-1]
                else:
                    top_e, last_e = extremes(found)[1], float(found[-1])
                if words is None:
                    x_words = _SEG_X.findall(body, pos, end)
                    y_words = _SEG_Y.findall(body, pos, end)
                xs = extremes(x_words) if x_words else None
                ys = extremes(y_words) if y_words else None
                if self.z_plain and body.find(b"Z", pos, end) >= 0:
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
                self.e += advance
            else:
                e0 = self.e
                rise, advance = top_e - e0, last_e - e0
                self.e = last_e
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
            self._box_range(xs, ys)
        self.x, self.y, self.z = position

    def _box_range(self, xs: tuple[float, float] | None,
                   ys: tuple[float, float] | None) -> None:
        """The box grows to the (low, high) extents of X and Y, when given."""
        box = self.box
        if xs:
            box[0] = min(box[0], xs[0])
            box[3] = max(box[3], xs[1])
        if ys:
            box[1] = min(box[1], ys[0])
            box[4] = max(box[4], ys[1])

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
            except LineFault as fault:
                fault.index = lines_before + index
                raise


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
