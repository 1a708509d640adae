"""Paper sizes in PostScript points and the nearest named size a page will print on.

A page is matched to a named size when both of its sides are within 3 % of that size's
sides, whatever the orientation: a landscape A4 page still prints on A4 paper, and a
595 x 792 pt page (A4 width, Letter height, as in CUPS's own test file) prints on Letter.
Anything further from every named size is "custom" and keeps its real dimensions so
that a price list can still decide by area.
"""

from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4
TOLERANCE = 0.03

# (name, short side, long side) in points, portrait
NAMED_SIZES: tuple[tuple[str, float, float], ...] = (
    ("A5", 148 * MM, 210 * MM),
    ("A4", 210 * MM, 297 * MM),
    ("A3", 297 * MM, 420 * MM),
    ("Letter", 612.0, 792.0),
    ("Legal", 612.0, 1008.0),
    ("Tabloid", 792.0, 1224.0),
)
CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class PaperSize:
    """Width and height in points as the page is shown, and the matched size name."""

    width: float
    height: float
    name: str

    def __str__(self) -> str:
        return f"{self.name} ({self.width:.0f} x {self.height:.0f} pt)"


def paper_size(width: float, height: float) -> PaperSize:
    """Name the nearest standard size for a ``width`` x ``height`` point page."""
    short, long = sorted((abs(width), abs(height)))
    best_name, best_error = CUSTOM, TOLERANCE
    for name, named_short, named_long in NAMED_SIZES:
        error = max(abs(short - named_short) / named_short, abs(long - named_long) / named_long)
        if error <= best_error:
            best_name, best_error = name, error
    return PaperSize(round(abs(width), 2), round(abs(height), 2), best_name)
