"""An analysis made elsewhere (the print server's spool agent), rebuilt from its counts.

When the kiosk cannot read the spool file itself, the agent on the print-server host has
analysed the document and reported pages per colour and paper size to the backend. The
kiosk prices from those counts exactly as from its own analysis, so the page order is
lost but nothing that prices a job is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from analysis.errors import DocumentAnalysisError
from analysis.model import DocumentAnalysis, PageAnalysis, PageColour
from analysis.paper import CUSTOM, NAMED_SIZES, PaperSize

_SIZES = {
    name: PaperSize(round(short, 2), round(long, 2), name) for name, short, long in NAMED_SIZES
}


def analysis_from_counts(
    counts: Sequence[Mapping[str, object]], source: str
) -> DocumentAnalysis:
    """Pages from ``[{"colour": "mono"|"colour"|"blank", "size": "A4", "count": 3}, ...]``."""
    pages: list[PageAnalysis] = []
    for entry in counts:
        try:
            colour = PageColour(str(entry["colour"]))
            count = int(str(entry["count"]))
        except (KeyError, ValueError) as exc:
            message = f"reported counts are malformed: {entry!r}"
            raise DocumentAnalysisError(source, message) from exc
        if count < 0:
            raise DocumentAnalysisError(source, f"reported a negative page count: {entry!r}")
        size = _SIZES.get(str(entry.get("size")), PaperSize(0.0, 0.0, CUSTOM))
        pages.extend(PageAnalysis(len(pages) + 1, colour, size) for _ in range(count))
    if not pages:
        raise DocumentAnalysisError(source, "the reported analysis has no pages")
    return DocumentAnalysis(Path(source), "reported", pages)
