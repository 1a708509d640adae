"""Truth for the real print jobs in ../shared/corpus/jobs, as stated by its MANIFEST.md.

The manifest measured PDF and PostScript pages by rendering at 12 and 40 dpi (colour when
a pixel's channels differ by more than 24, blank when no pixel is darker than 240). PCL XL,
PCL 5 and XPS have no rendering behind them there: their page counts and the colour facts
the manifest states (RGB colour or none) are all we can check. Shared by the tests and by
bench/bench_analysis.py.
"""

from __future__ import annotations

from pathlib import Path

JOBS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "jobs"


def _pages(
    count: int,
    colour: set[int] = frozenset(),
    blank: set[int] = frozenset(),  # type: ignore[assignment]
    size: str = "Letter",
) -> list[tuple[str, str]]:
    return [
        ("colour" if n in colour else "blank" if n in blank else "mono", size)
        for n in range(1, count + 1)
    ]


PDF_TRUTH = {
    "cups__testfile.pdf": _pages(8, {2}),
    "cups__document-a4.pdf": _pages(4, {1, 3}, size="A4"),
    "cups__onepage-letter.pdf": _pages(1, {1}),
    "ghostpdl__annots.pdf": _pages(6, {2, 3, 4, 5, 6}),
    "pkpgcounter__colors.pdf": _pages(10, {2, 3, 4, 5, 6, 7}, {9}, size="A4"),
    "pypdf__GeoBase_NHNC1_Data_Model_UML_EN.pdf": _pages(19, set(range(1, 20)) - {4}),
    "pypdf__two-different-pages.pdf": _pages(2, size="A4"),
    "pypdf__indirect-rotation.pdf": _pages(5),
    "pdfjs__pdkids.pdf": _pages(55, {2, 7, 9, 11, 13, 19, 23, 45, 47, 49, 52, 55}),
    "pdfjs__sizes.pdf": [("mono", "Letter"), ("mono", "custom"), ("mono", "Letter")],
    "pdfjs__hello_world_rotated.pdf": _pages(5),
    "pdfjs__issue14847.pdf": _pages(6, {3, 4, 5}, {2, 6}, size="A4"),
}
POSTSCRIPT_TRUTH = {  # (pages, colour pages); sizes come from the interpreter's default
    "cups__testfile.ps": (1, {1}),
    "ghostpdl__colorcir.ps": (1, {1}),
    "ghostpdl__escher.ps": (1, {1}),
    "ghostpdl__waterfal.ps": (1, set()),
    "ghostpdl__golfer.eps": (1, set()),
    "ghostpdl__tiger.eps": (1, {1}),
    "pkpgcounter__master.ps.gz": (16, set(range(1, 17))),
}
PAGE_COUNT_TRUTH = {  # printer languages we parse without rendering
    "ghostpdl__tiger.px3": (1, {1}),
    "ghostpdl__frs96.pxl": (15, set()),
    "ghostpdl__pattern.pxl": (2, set()),
    "cups__testfile.pcl": (1, set()),
    "ghostpdl__lineprinter.pcl": (1, set()),
    "ghostpdl__tiger.xps": (1, {1}),
}
