"""Real print jobs from ../shared/corpus/jobs: pages and per-page colour (see corpus_truth)."""

from __future__ import annotations

import pytest
from corpus_truth import JOBS, PAGE_COUNT_TRUTH, PDF_TRUTH, POSTSCRIPT_TRUTH
from mixed_documents import ghostscript_available

from analysis import EncryptedDocument, UnsupportedDocument, analyse_document

JOBS_FORMAT = {".ps": "postscript", "eps": "eps"}

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
    expected_format = "postscript+gzip" if name.endswith(".gz") else JOBS_FORMAT[name[-3:]]
    assert analysis.format == expected_format
    assert analysis.path == JOBS / name


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
