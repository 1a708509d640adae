"""Real print jobs from ../shared/corpus/jobs: page counts and per-page colour.

The expected figures are those of the corpus MANIFEST.md (measured there by rendering
at 12 and 40 dpi); blank pages are listed where the manifest names them. PCL XL and PCL 5
figures have no rendering behind them in the manifest: only their page counts are
checked against it, plus the colour facts it states (RGB colour or none).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mixed_documents import ghostscript_available

from terminal.analysis import EncryptedDocument, UnsupportedDocument, analyse_document

JOBS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "jobs"


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

pytestmark = pytest.mark.skipif(not JOBS.is_dir(), reason="shared corpus not present")


@pytest.mark.parametrize("name", sorted(PDF_TRUTH))
def test_pdf_pages_colours_and_sizes(name: str) -> None:
    analysis = analyse_document(JOBS / name)
    assert analysis.format == "pdf"
    assert [(p.colour.value, p.size.name) for p in analysis.pages] == PDF_TRUTH[name]


@pytest.mark.skipif(not ghostscript_available(), reason="PostScript needs Ghostscript")
@pytest.mark.parametrize("name", sorted(POSTSCRIPT_TRUTH))
def test_postscript_pages_and_colours(name: str) -> None:
    count, colour = POSTSCRIPT_TRUTH[name]
    analysis = analyse_document(JOBS / name)
    assert analysis.page_count == count
    assert {p.number for p in analysis.pages if p.colour.value == "colour"} == colour
    assert all(p.colour.value != "blank" for p in analysis.pages)


@pytest.mark.parametrize("name", sorted(PAGE_COUNT_TRUTH))
def test_printer_language_page_counts_and_colour(name: str) -> None:
    count, colour = PAGE_COUNT_TRUTH[name]
    analysis = analyse_document(JOBS / name)
    assert analysis.page_count == count
    assert {p.number for p in analysis.pages if p.colour.value == "colour"} == colour
    assert {p.size.name for p in analysis.pages} == {"Letter"}


def test_encrypted_pdf_is_refused_by_name() -> None:
    with pytest.raises(EncryptedDocument) as caught:
        analyse_document(JOBS / "pypdf__encrypted-file.pdf")
    assert caught.value.path.name == "pypdf__encrypted-file.pdf"
    assert "password" in caught.value.reason


def test_pwg_raster_is_unsupported_with_a_reason() -> None:
    with pytest.raises(UnsupportedDocument, match="pwg-raster"):
        analyse_document(JOBS / "cups__onepage-a4-300-black-1.pwg")
