"""From analysed pages to what the printer will bill: impressions and sheets.

Copies, n-up and sides are job attributes (IPP ``copies``, ``number-up``, ``sides``),
not properties of the file, so they are applied here, after analysis:

* n-up puts ``number-up`` consecutive pages on one side; that side is colour if any of
  its pages is colour, blank only if all are blank, and printed on the size of its first
  page (a printer places an n-up group on one medium);
* a blank side is billed as a mono impression: the printer still feeds and counts it;
* two-sided printing puts two consecutive sides on one sheet, and every copy starts on
  a fresh sheet (CUPS collates copies that way);
* copies multiply everything.

Impressions are counted per (colour, paper size) because price lists are keyed that way;
sheets per paper size, for paper costs and quotas counted in sheets.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from analysis.model import DocumentAnalysis, PageColour

ALLOWED_NUMBER_UP = (1, 2, 4, 6, 9, 16)


class Sides(enum.Enum):
    """IPP ``sides`` keywords."""

    ONE_SIDED = "one-sided"
    TWO_SIDED_LONG_EDGE = "two-sided-long-edge"
    TWO_SIDED_SHORT_EDGE = "two-sided-short-edge"

    @property
    def duplex(self) -> bool:
        return self is not Sides.ONE_SIDED


class ImpressionColour(enum.Enum):
    """What a printed side is billed as (a blank side is a mono click)."""

    COLOUR = "colour"
    MONO = "mono"


@dataclass(frozen=True)
class BillableUsage:
    """Impressions per (colour, size name) and sheets per size name, all copies included."""

    impressions: Mapping[tuple[ImpressionColour, str], int]
    sheets: Mapping[str, int]

    def total_impressions(self, colour: ImpressionColour | None = None) -> int:
        return sum(n for (c, _), n in self.impressions.items() if colour in (None, c))

    def total_sheets(self) -> int:
        return sum(self.sheets.values())


def billable_usage(
    analysis: DocumentAnalysis,
    copies: int = 1,
    number_up: int = 1,
    sides: Sides | str = Sides.ONE_SIDED,
) -> BillableUsage:
    """Apply copies, n-up and sides to an analysis; bad attributes raise ValueError."""
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise ValueError(f"copies must be a whole number of at least 1, not {copies!r}")
    if number_up not in ALLOWED_NUMBER_UP:
        raise ValueError(
            f"number-up must be one of {', '.join(map(str, ALLOWED_NUMBER_UP))}, not {number_up!r}"
        )
    try:
        side_mode = Sides(sides)
    except ValueError:
        allowed = ", ".join(s.value for s in Sides)
        raise ValueError(f"sides must be one of {allowed}, not {sides!r}") from None

    impressions: Counter[tuple[ImpressionColour, str]] = Counter()
    sheets: Counter[str] = Counter()
    pages = analysis.pages
    for side_index, start in enumerate(range(0, len(pages), number_up)):
        group = pages[start : start + number_up]
        colour = (
            ImpressionColour.COLOUR
            if any(p.colour is PageColour.COLOUR for p in group)
            else ImpressionColour.MONO
        )
        size = group[0].size.name
        impressions[(colour, size)] += copies
        if not side_mode.duplex or side_index % 2 == 0:
            sheets[size] += copies
    return BillableUsage(dict(impressions), dict(sheets))
