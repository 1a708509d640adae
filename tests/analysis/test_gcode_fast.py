"""The fast path's number reading (analysis/gcode_fast.py) against the plain readings it
replaces: float() min/max, the three general segment regexes, and a naive line-by-line
reading of whole files made of the uniform ``G1 X.. Y.. E..`` runs it speeds up."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from pathlib import Path

import pytest
from gcode_files import TIME_FOOTER, naive

from analysis import analyse_gcode
from analysis.gcode_fast import extremes, uniform_words
from analysis.gcode_machine import _SEG_E, _SEG_X, _SEG_Y

# every way a slicer (or a hand) writes a coordinate: fixed decimals, trimmed decimals,
# integers, leading zeros, a bare point, signs, a trailing point
_FORMATS = ("{:.3f}", "{:.3f}", "{:.2f}", "{:g}", "{:.0f}", "{:07.3f}", "{:+.3f}", "{:.0f}.")


def _written(rng: random.Random, value: float, fmt: str) -> str:
    text = fmt.format(value)
    if rng.random() < 0.1 and text.startswith("0.") and text[2:].isdigit():
        text = text[1:]  # ".5", as PrusaSlicer writes it
    return text


@pytest.mark.parametrize("seed", range(300))
def test_extremes_equal_float_min_and_max(seed: int) -> None:
    rng = random.Random(seed)
    fmt = rng.choice(_FORMATS)  # one format for the whole column: the lexical case
    scale = rng.choice([1.0, 9.99, 10.0, 99.9, 250.0, 1000.0, 1e6])
    values = [_written(rng, rng.uniform(0 if rng.random() < 0.8 else -scale, scale),
                       rng.choice(_FORMATS) if rng.random() < 0.1 else fmt)
              for _ in range(rng.randint(1, 60))]
    raw = [v.encode() for v in values]
    numbers = list(map(float, raw))
    assert extremes(raw) == (min(numbers), max(numbers)), values


@pytest.mark.parametrize("values", [
    [b"9.5", b"10.5"], [b"09.5", b"10.5", b"9.9"], [b".5", b"0.3"], [b"0.3", b".5"],
    [b"100", b"99", b"7"], [b"5.", b"40."], [b"-1.5", b"-10.5"], [b"1e3", b"999"],
])
def test_extremes_of_the_tricky_columns(values: list[bytes]) -> None:
    numbers = list(map(float, values))
    assert extremes(values) == (min(numbers), max(numbers))


@pytest.mark.parametrize("values", [[b""], [b"12", b""], [b"1.2.3", b"4.5.6"], [b"1a"]])
def test_extremes_refuse_what_float_refuses(values: list[bytes]) -> None:
    with pytest.raises(ValueError):
        extremes(values)


_OTHER_LINES = (  # (line, whether the proof must refuse the segment)
    ("G0 X{x} Y{y} F9000", False),            # a travel: X and Y without E, not read
    ("G1 Z{x} F3000", False),                 # a layer change without E
    ("G1 E-0.8 F2100", True),                 # a retraction: E without X
    ("G0 E0.8", True),                        # the same by G0
    ("G1 F1200 X{x} Y{y} E{e}", True),        # F first
    ("G1 X{x} Y{y} E{e} ; External", True),   # a comment naming E
    ("; External perimeter", True),           # ...on its own line
    ("G1 Y{y} X{x} E{e}", True),              # another word order
    ("G1 X{x} E{e}", True),                   # no Y
    ("M201 X500 Y500 E5000", True),           # an inert command naming E
    ("G1 X{x} Y{y} E{e} E{e}", True),         # a second E
    ("G1 X{x} Y{y} E", True),                 # an empty E
    ("G1 X{x}E{e} Y{y} E{e}", True),          # no space: a letter inside a value
)


@pytest.mark.parametrize("seed", range(200))
def test_uniform_words_read_what_the_general_regexes_read(seed: int) -> None:
    rng = random.Random(seed)
    lines = []
    odd = False
    for _ in range(rng.randint(1, 40)):
        x, y, e = (f"{rng.uniform(0, 300):.3f}" for _ in range(3))
        if rng.random() < 0.05:
            line, refused = rng.choice(_OTHER_LINES)
            odd = odd or refused
            lines.append(line.format(x=x, y=y, e=e))
        else:
            lines.append(f"G1 X{x} Y{y} E{e}" + (" F1800" if rng.random() < 0.3 else ""))
    body = b"\n" + "\n".join(lines).encode() + b"\n"
    words = uniform_words(body, 0, len(body))
    general = (_SEG_E.findall(body), _SEG_X.findall(body), _SEG_Y.findall(body))
    # refused exactly when a line breaks the proof, or when there is nothing to read
    assert (words is None) == (odd or not general[0]), lines
    if words is not None:
        assert words == general


def _uniform_file(path: Path, seed: int, *, relative: bool) -> None:
    """Long runs of ``G1 X.. Y.. E..`` (the fast reading), their coordinates crossing 10
    and 100 and written in one format per run, broken now and then by the lines that
    send a segment to the general reading."""
    rng = random.Random(seed)
    out = ["; uniform runs", "G21", "G90", "M83" if relative else "M82", "G92 E0",
           "G1 Z0.2 F3000"]
    e = 0.0
    x = y = 50.0
    for _ in range(rng.randint(5, 40)):
        fmt = rng.choice(_FORMATS[:6])
        for _ in range(rng.randint(1, 200)):
            x = min(max(x + rng.uniform(-12, 12), 0.0), 250.0)
            y = min(max(y + rng.uniform(-12, 12), 0.0), 250.0)
            delta = rng.uniform(0.0, 0.4) if rng.random() < 0.95 else -rng.uniform(0, 1)
            e += delta
            word = f"{delta:.5f}" if relative else f"{e:.5f}"
            out.append(f"G1 X{_written(rng, x, fmt)} Y{_written(rng, y, fmt)} E{word}")
        roll = rng.random()
        if roll < 0.3:
            out.append(f"G0 X{x + 5:.3f} Y{y:.3f} F9000")
            x += 5
        elif roll < 0.5:
            out.append(";TYPE:External perimeter")
        elif roll < 0.6:
            out.append(f"G1 Z{0.2 + rng.randint(1, 50) * 0.2:.2f}")
    path.write_text("\n".join(out) + "\n" + TIME_FOOTER)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("relative", [True, False], ids=["M83", "M82"])
def test_uniform_files_match_a_naive_reading(tmp_path: Path, seed: int, relative: bool) -> None:
    path = tmp_path / "uniform.gcode"
    _uniform_file(path, seed, relative=relative)
    ref = naive(path)
    result = analyse_gcode(path)
    assert result.total_mm == pytest.approx(Decimal(f"{sum(ref.peaks):.2f}"),
                                            abs=Decimal("0.01"))
    assert result.bbox_mm is not None
    (x0, y0, _), (x1, y1, _) = result.bbox_mm
    box = ref.box_xy()
    assert all(math.isfinite(v) for v in box)
    assert (float(x0), float(y0), float(x1), float(y1)) == pytest.approx(box, abs=0.006)
