"""The estimate used when a document cannot be analysed: a rule from configuration.

A job whose file is encrypted, damaged or in a language we do not read must still get a
price, or the user could print it for free. The rule says how many pages to assume
(unless CUPS reported a page count for the job, which is then used), whether to assume
colour (the safe default: never undercharge) and on which paper size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from analysis.document import analyse_document
from analysis.errors import DocumentAnalysisError
from analysis.model import DocumentAnalysis, PageAnalysis, PageColour
from analysis.paper import NAMED_SIZES, PaperSize

_SIZES = {name: (short, long) for name, short, long in NAMED_SIZES}
_KEYS = {"pages", "colour", "paper_size"}


@dataclass(frozen=True)
class FallbackRule:
    """Assume ``pages`` pages (or the job's reported count), colour or not, on one size."""

    pages: int = 1
    colour: bool = True
    paper_size: str = "A4"

    def __post_init__(self) -> None:
        if isinstance(self.pages, bool) or not isinstance(self.pages, int) or self.pages < 1:
            raise ValueError(
                f"fallback pages must be a whole number of at least 1, not {self.pages!r}"
            )
        if not isinstance(self.colour, bool):
            raise ValueError(f"fallback colour must be true or false, not {self.colour!r}")
        if self.paper_size not in _SIZES:
            raise ValueError(
                f"fallback paper_size must be one of {', '.join(_SIZES)}, not {self.paper_size!r}"
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, object], where: str = "fallback") -> FallbackRule:
        """Build from a configuration table; unknown keys and bad values name ``where``."""
        unknown = sorted(set(values) - _KEYS)
        if unknown:
            raise ValueError(
                f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}"
            )
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None


def fallback_analysis(
    error: DocumentAnalysisError, rule: FallbackRule, reported_pages: int | None = None
) -> DocumentAnalysis:
    """The estimate for a file that failed analysis with ``error``.

    Never fewer pages than are known: the pages the error says were analysed keep their
    own colour and size, and the page count is the largest of the document's declared
    count, the pages seen and CUPS's reported count (the rule's ``pages`` when none is
    known). The pages nobody analysed are the rule's colour on the rule's size.
    """
    analysed = list(error.pages)
    known = max(error.page_total or 0, len(analysed), reported_pages or 0)
    count = known if known > 0 else rule.pages
    short, long = _SIZES[rule.paper_size]
    size = PaperSize(round(short, 2), round(long, 2), rule.paper_size)
    colour = PageColour.COLOUR if rule.colour else PageColour.MONO
    assumed = [PageAnalysis(n, colour, size) for n in range(len(analysed) + 1, count + 1)]
    return DocumentAnalysis(
        path=error.path,
        format="unknown",
        pages=analysed + assumed,
        estimated=True,
        note=error.reason,
    )


def analyse_or_fall_back(
    path: Path | str,
    rule: FallbackRule,
    reported_pages: int | None = None,
    analyse: Callable[[Path], DocumentAnalysis] = analyse_document,
) -> DocumentAnalysis:
    """Analyse ``path`` with ``analyse``; on any analysis error, return the rule's estimate.

    The kiosk passes :func:`analysis.isolated.analyse_isolated` as ``analyse``.
    """
    try:
        return analyse(Path(path))
    except DocumentAnalysisError as error:
        return fallback_analysis(error, rule, reported_pages)
