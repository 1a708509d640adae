"""The fast path's number reading: one regex pass per segment, and extremes without floats.

Profiling the 60 MB spirals (docs/gcode-analysis.md, "Speed") showed the time going to
three regex passes per segment (E, X of extruding moves, Y of extruding moves) and to
converting every X and Y to a float only to take a min and a max. Two cheaper readings,
each checked so that it gives exactly what the three regexes and float() give, else
``None`` and the caller takes the general reading:

- :func:`uniform_words`: a segment whose extruding moves all read ``G0/G1 X.. Y.. E..``
  (all of the spirals; slicer segments only between retractions) is read by one regex whose
  single capture is joined and split into the three columns in C.
- :func:`extremes`: unsigned decimals with the point at the same place from the right
  order as numbers once right-aligned, so ``min``/``max`` of the strings (C compares
  bytes) give the extremes, and only those two are converted.
"""

from __future__ import annotations

import re
from itertools import repeat

# the extruding moves whose first words are X, Y, E: captured together, letters included
_XYE = re.compile(rb"\nG[01] (X[^\s;]+ Y[^\s;]+ E[^\s;]+)")
_LETTERS = b"XYE"
# digits and the padding become "0": a right-aligned column then reads as one pattern
_SHAPE = bytes.maketrans(b" 0123456789", b"0" * 11)
_LEADING_ZERO = re.compile(rb" 0[0-9]")


def uniform_words(body: bytes, pos: int, end: int
                  ) -> tuple[list[bytes], list[bytes], list[bytes]] | None:
    """E, X and Y of the extruding moves of ``body[pos:end]`` (as the general regexes read
    them: the first E of each G0/G1 line, the X and Y of those carrying an E), when every
    E letter of the segment lies in an ``X.. Y.. E..`` capture; else None.

    The E count is the proof: a line the general regexes read carries an E, so it is one
    of the captured lines, whose first X and Y are the captured ones. A retraction
    without X, a comment or an M command naming E, a second E, another word order all
    leave an E uncaptured. Travel moves (X and Y, no E) may sit in between."""
    count = body.count(b"E", pos, end)
    # where the proof must fail (a retraction; fewer "G1 X" lines than E letters: F
    # written first, a comment naming E), spare the regex pass: counts cost ~1/15 of it
    if (not count or body.find(b"\nG1 E", pos, end) >= 0
            or body.count(b"\nG1 X", pos, end) + body.count(b"\nG0 X", pos, end) < count):
        return None
    rows = _XYE.findall(body, pos, end)
    if len(rows) != count:
        return None
    words = b" ".join(rows).translate(None, _LETTERS).split(b" ")
    return words[2::3], words[0::3], words[1::3]


def extremes(values: list[bytes]) -> tuple[float, float]:
    """min and max of the numbers written in ``values`` (non-empty), as
    ``min(map(float, values))`` and ``max(...)`` give them; ValueError on a value
    float() does not read.

    Right-aligned to one width, unsigned decimals whose point sits at the same place
    from the right compare as strings exactly as numbers (a space sorts below every
    digit) as long as no integer part is empty or has a leading zero ("0.5" and ".5",
    "9" and "09"); anything else (signs, mixed decimals, exponents) goes through
    float()."""
    width = len(max(values, key=len))
    padded = list(map(bytes.rjust, values, repeat(width)))
    joined = b" " + b" ".join(padded)
    pattern = padded[0].translate(_SHAPE)
    if (pattern.count(b".") <= 1 and not pattern.translate(None, b"0.")
            and joined.translate(_SHAPE) == (b"0" + pattern) * len(padded)
            and b" ." not in joined and _LEADING_ZERO.search(joined) is None):
        return float(min(padded)), float(max(padded))
    numbers = list(map(float, values))
    return min(numbers), max(numbers)
