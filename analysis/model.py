"""What document analysis tells the estimate: per page, its colour class and paper size.

The estimate prices pages by colour and paper size (billing's price lists are keyed by
both), so the result is a page list plus a tally by (colour, size). A blank page is kept
apart from mono because operators differ on whether to charge it; the impression
arithmetic (copies, n-up, sides) lives in :mod:`analysis.impressions`.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis.paper import PaperSize


class PageColour(enum.Enum):
    """How a page prints: colour toner needed, black/grey only, or nothing at all."""

    COLOUR = "colour"
    MONO = "mono"
    BLANK = "blank"


@dataclass(frozen=True, slots=True)
class PageAnalysis:
    """One page as it will print: 1-based number, colour class and paper size."""

    number: int
    colour: PageColour
    size: PaperSize


@dataclass(frozen=True)
class DocumentAnalysis:
    """A whole document: its format, every page, and whether the figures are a fallback.

    ``estimated`` is true when the file could not be analysed and the pages come from the
    configured fallback rule; ``note`` then says why, so a receipt or log can tell.
    """

    path: Path
    format: str
    pages: Sequence[PageAnalysis]
    estimated: bool = False
    note: str = ""
    _tally: Counter[tuple[PageColour, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_tally", Counter((page.colour, page.size.name) for page in self.pages)
        )

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def count(self, colour: PageColour) -> int:
        """Pages of one colour class, all sizes together."""
        return sum(n for (c, _), n in self._tally.items() if c is colour)

    def tally(self) -> Mapping[tuple[PageColour, str], int]:
        """Pages per (colour class, paper size name): what a price list is keyed by."""
        return dict(self._tally)

    def sizes(self) -> Mapping[str, int]:
        """Pages per paper size name."""
        counts: Counter[str] = Counter()
        for (_, size), n in self._tally.items():
            counts[size] += n
        return dict(counts)
