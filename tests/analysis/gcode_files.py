"""Generated G-code for the analysis tests and the bench, and a naive reference interpreter.

The reference reads one line at a time with the plainest code possible, so that the
streaming analyser (regex fast path, slow path, chunk boundaries) can be checked against
it on random files: filament per tool (the peak of net E: retracted filament pushed back
out counts once), layers (Z heights where new filament left the spool) and the box (X/Y
written on moves that carry E; arcs add their extent).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path

TIME_FOOTER = "; estimated printing time (normal mode) = 1h 2m 3s\n"


@dataclass
class Reference:
    """What a line-by-line reading of the file gives."""

    peaks: list[float] = field(default_factory=lambda: [0.0])
    nets: list[float] = field(default_factory=lambda: [0.0])
    layers: set[float] = field(default_factory=set)
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    seconds: float = 0.0  # distance (or E length) / modal feed rate, plus dwells

    def box_xy(self) -> tuple[float, float, float, float]:
        return min(self.xs), min(self.ys), max(self.xs), max(self.ys)


def naive(path: Path) -> Reference:
    """The reference reading: M82/M83, G90/G91, G92, G10/G11 (M207), T<n>, G0-G3."""
    ref = Reference()
    x = y = z = e = 0.0
    rel_e = rel_xyz = False
    tool = 0
    retract, retracted = 3.0, 0.0
    feed = 1500.0

    def extrude(delta: float) -> None:
        while len(ref.peaks) <= tool:
            ref.peaks.append(0.0)
            ref.nets.append(0.0)
        ref.nets[tool] += delta
        if ref.nets[tool] > ref.peaks[tool]:
            ref.peaks[tool] = ref.nets[tool]
            ref.layers.add(round(z, 3))

    for raw in path.read_text().splitlines():
        code = raw.split(";")[0].strip()
        if not code:
            continue
        parts = code.split()
        head = parts[0]
        if head.startswith("M") and head not in ("M82", "M83", "M207"):
            continue  # M117 messages, fans...: nothing counted
        words = {p[0]: float(p[1:]) if len(p) > 1 else None for p in parts[1:]}
        if head.startswith("T"):
            tool = int(head[1:])
        elif head == "M82":
            rel_e = False
        elif head == "M83":
            rel_e = True
        elif head == "M207":
            retract = words["S"] or 0.0
        elif head == "G90":
            rel_xyz = False
        elif head == "G91":
            rel_xyz = True
        elif head == "G92":
            if not words:
                x = y = z = e = 0.0
            x = words.get("X", x) or 0.0 if "X" in words else x
            y = words.get("Y", y) or 0.0 if "Y" in words else y
            z = words.get("Z", z) or 0.0 if "Z" in words else z
            e = words.get("E", e) or 0.0 if "E" in words else e
        elif head == "G4":
            ref.seconds += (words.get("S") or 0.0) + (words.get("P") or 0.0) / 1000
        elif head == "G10" and not retracted:
            retracted = retract
            extrude(-retract)
        elif head == "G11" and retracted:
            extrude(retracted)
            retracted = 0.0
        elif head in ("G0", "G1", "G2", "G3"):
            start = (x, y, z)
            if words.get("F"):
                feed = words["F"] or feed
            if rel_xyz:
                x += words.get("X") or 0.0
                y += words.get("Y") or 0.0
                z += words.get("Z") or 0.0
            else:
                x, y, z = (v if (v := words.get(k)) is not None else old
                           for k, old in (("X", x), ("Y", y), ("Z", z)))
            delta = 0.0
            if "E" in words:
                value = words["E"] or 0.0
                delta = value if (rel_e or rel_xyz) else value - e
                e = e + value if (rel_e or rel_xyz) else value
                extrude(delta)
                if head in ("G0", "G1"):
                    if "X" in words:
                        ref.xs.append(x)
                    if "Y" in words:
                        ref.ys.append(y)
            ref.seconds += max(math.dist(start, (x, y, z)), abs(delta)) / feed * 60
    return ref


def random_gcode(path: Path, seed: int, lines: int = 3000, *, time_footer: bool,
                 arcs: bool = False, markers: bool = False) -> None:
    """A random file mixing every dialect case the analyser handles (no M221, no G20).

    ``markers``: a ;LAYER_CHANGE before each layer, and some extrusions that also raise
    Z (vase mode); the file's layer count is then the number of markers."""
    rng = random.Random(seed)
    out: list[str] = ["; generated for printkiosk tests", "G21", "G90", "M82", "G92 E0"]
    e = 0.0          # the E coordinate as the file sees it
    rel_e = False
    tool = 0
    x, y, z = 100.0, 100.0, 0.2
    retracted = False
    out.append(f"G1 Z{z:.2f} F3000")

    def e_word(delta: float) -> str:
        nonlocal e
        if rel_e:
            e += delta
            return f"E{delta:.5f}"
        e += delta
        return f"E{e:.5f}"

    for _ in range(lines):
        roll = rng.random()
        if roll < 0.55:
            nx, ny = x + rng.uniform(-8, 8), y + rng.uniform(-8, 8)
            delta = math.hypot(nx - x, ny - y) * 0.033
            shape = rng.random()
            if markers and shape < 0.2:
                z = round(z + 0.001, 3)
                out.append(f"G1 X{nx:.3f} Y{ny:.3f} Z{z:.3f} {e_word(delta)}")
            elif shape < 0.8:
                out.append(f"G1 X{nx:.3f} Y{ny:.3f} {e_word(delta)}")
            elif shape < 0.9:
                out.append(f"G1 F{rng.choice([900, 1200, 1800])} X{nx:.3f} Y{ny:.3f} "
                           f"{e_word(delta)} ; inline")
            else:
                ny = y
                out.append(f"G1 X{nx:.3f} {e_word(delta)}")
            x, y = nx, ny
        elif roll < 0.65:
            x, y = x + rng.uniform(-20, 20), y + rng.uniform(-20, 20)
            out.append(f"G0 X{x:.3f} Y{y:.3f} F9000")
        elif roll < 0.72:
            length = rng.choice([0.8, 1.5, 2.0])
            out.append(f"G1 {e_word(-length)} F2100")
            if rng.random() < 0.5:
                x, y = x + rng.uniform(-20, 20), y + rng.uniform(-20, 20)
                out.append(f"G0 X{x:.3f} Y{y:.3f}")
            out.append(f"G1 {e_word(length)} F2100")
        elif roll < 0.76:
            z = round(z + 0.2, 3)
            if markers:
                out.append(";LAYER_CHANGE")
            out.append(f"G1 Z{z:.3f} F3000")
        elif roll < 0.79:
            value = rng.choice([0.0, 0.0, 5.0])
            out.append(f"G92 E{value:g}")
            e = value
        elif roll < 0.80:
            out.append("G92 X0 Y0")  # no E: E untouched
            x = y = 0.0
        elif roll < 0.83:
            rel_e = not rel_e
            out.append("M83" if rel_e else "M82")
        elif roll < 0.85:
            if rng.random() < 0.5:  # a tool-change retraction, refilled on the tool's return
                out.append(f"G1 {e_word(-rng.choice([2.0, 8.0]))} F2100")
            tool = rng.randrange(3)
            out.append(f"T{tool}")
        elif roll < 0.87 and not retracted:
            out.append(f"M207 S{rng.choice([1.0, 2.5, 4.0])}")
            out.append("G10")
            retracted = True
        elif roll < 0.89 and retracted:
            out.append("G11")
            retracted = False
        elif roll < 0.91:
            # a relative-move block: E relative too (G91)
            out.append("G91")
            for _ in range(rng.randrange(1, 4)):
                dx, dy, de = rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(0, 0.2)
                out.append(f"G1 X{dx:.3f} Y{dy:.3f} E{de:.5f}")
                x, y = x + dx, y + dy
            out.append("G90")
            # G90 leaves E as M82/M83 said; in absolute mode the file goes on from here
            out.append("G92 E0" if not rel_e else "M83")
            if not rel_e:
                e = 0.0
        elif roll < 0.93 and arcs:
            i, j = rng.uniform(-5, 5), rng.uniform(-5, 5)
            cx, cy = x + i, y + j
            angle = rng.uniform(0.3, 3.0)
            a0 = math.atan2(y - cy, x - cx)
            radius = math.hypot(i, j)
            kind = rng.choice([2, 3])
            a1 = a0 - angle if kind == 2 else a0 + angle
            nx, ny = cx + radius * math.cos(a1), cy + radius * math.sin(a1)
            out.append(f"G{kind} X{nx:.3f} Y{ny:.3f} I{i:.3f} J{j:.3f} "
                       f"{e_word(radius * angle * 0.033)}")
            x, y = nx, ny
        elif roll < 0.96:
            out.append(rng.choice(["M106 S255", "M204 S800", ";TYPE:Perimeter", "",
                                   "M117 Layer done", "G4 P10", "M73 P10 R20"]))
        else:
            out.append(f";WIDTH:{rng.uniform(0.3, 0.6):.2f}")
    if retracted:
        out.append("G11")
    out.append(f"G1 {e_word(-2.0)} F2100 ; the end G-code's retraction")
    text = "\n".join(out) + "\n"
    if time_footer:
        text += TIME_FOOTER
    path.write_text(text)


def spiral(path: Path, megabytes: float, *, relative: bool, time_footer: bool = True) -> float:
    """TOOLCHAIN.md's spiral (the bench's big file); returns its E sum."""
    e = a = 0.0
    r = 5.0
    x = y = 110.0
    with path.open("w") as f:
        f.write(f"; filament_diameter = 1.75\nG90\n{'M83' if relative else 'M82'}\nG92 E0\n")
        while f.tell() < megabytes * 1e6:
            r = r + 0.0008 if r < 100 else 5.0
            a += 0.8 / r
            nx, ny = 110 + r * math.cos(a), 110 + r * math.sin(a)
            de = round(math.hypot(nx - x, ny - y) * 0.0333, 5)
            x, y = nx, ny
            e += de
            f.write(f"G1 X{x:.3f} Y{y:.3f} E{de if relative else e:.5f} F1800\n")
        if time_footer:
            f.write(TIME_FOOTER)
    return e
