"""Files that cannot be analysed raise one error family naming the file; the fallback applies."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest
from mixed_documents import ghostscript_available
from pdf_writer import Page, PdfWriter

from analysis import (
    DocumentAnalysisError,
    FallbackRule,
    MalformedDocument,
    PageColour,
    UnsupportedDocument,
    analyse_document,
    analyse_isolated,
    analyse_or_fall_back,
)


def _pdf(path: Path) -> Path:
    writer = PdfWriter()
    writer.add_page(Page("BT /F1 11 Tf 72 700 Td (hello) Tj ET"))
    writer.add_page(Page("1 0 0 rg 72 72 100 100 re f"))
    writer.write(path)
    return path


def test_truncated_pdf_is_malformed(tmp_path: Path) -> None:
    whole = _pdf(tmp_path / "whole.pdf").read_bytes()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(whole[:40])
    with pytest.raises(MalformedDocument) as caught:
        analyse_document(broken)
    assert caught.value.path == broken
    assert str(broken) in str(caught.value)


def test_unknown_bytes_are_unsupported(tmp_path: Path) -> None:
    junk = tmp_path / "photo.bin"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    with pytest.raises(UnsupportedDocument, match="not PDF, PostScript"):
        analyse_document(junk)


def test_empty_and_missing_files_are_analysis_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedDocument):
        analyse_document(empty)
    with pytest.raises(DocumentAnalysisError, match="cannot be read"):
        analyse_document(tmp_path / "missing.pdf")


def test_zip_that_is_not_xps_is_malformed(tmp_path: Path) -> None:
    archive = tmp_path / "job.xps"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("hello.txt", "not a document")
    with pytest.raises(MalformedDocument, match=r"_rels/\.rels"):
        analyse_document(archive)


def test_gzip_twice_is_unsupported(tmp_path: Path) -> None:
    job = tmp_path / "job.pdf.gz.gz"
    job.write_bytes(gzip.compress(gzip.compress(_pdf(tmp_path / "inner.pdf").read_bytes())))
    with pytest.raises(UnsupportedDocument, match="gzip'd twice") as caught:
        analyse_document(job)
    assert caught.value.path == job


def test_broken_gzip_is_malformed(tmp_path: Path) -> None:
    job = tmp_path / "job.ps.gz"
    job.write_bytes(b"\x1f\x8b\x08\x00" + bytes(20))
    with pytest.raises(MalformedDocument, match="gzip"):
        analyse_document(job)


@pytest.mark.skipif(not ghostscript_available(), reason="PostScript needs Ghostscript")
def test_failing_postscript_names_ghostscripts_complaint(tmp_path: Path) -> None:
    job = tmp_path / "job.ps"
    job.write_text(
        "%!PS\n/Helvetica findfont 12 scalefont setfont 72 72 moveto (a) show\n"
        "this_is_not_an_operator\nshowpage\n"
    )
    with pytest.raises(MalformedDocument, match="Ghostscript"):
        analyse_document(job)


def test_truncated_pcl_xl_is_malformed(tmp_path: Path) -> None:
    job = tmp_path / "job.pxl"
    job.write_bytes(b") HP-PCL XL;2;0\n\xc0\x00\xf8\x86\x41\xc8\xc1\x40")
    with pytest.raises(MalformedDocument, match="truncated"):
        analyse_document(job)


def test_fallback_uses_the_rule_or_the_reported_count(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n garbage")
    rule = FallbackRule(pages=3, colour=True, paper_size="Letter")
    estimate = analyse_or_fall_back(broken, rule)
    assert estimate.estimated and estimate.page_count == 3
    assert estimate.count(PageColour.COLOUR) == 3
    assert estimate.sizes() == {"Letter": 3}
    assert "cannot be opened: it is not a valid PDF" in estimate.note
    reported = analyse_or_fall_back(broken, FallbackRule(colour=False), reported_pages=7)
    assert reported.page_count == 7 and reported.count(PageColour.MONO) == 7


def test_fallback_is_not_used_when_analysis_succeeds(tmp_path: Path) -> None:
    analysis = analyse_or_fall_back(_pdf(tmp_path / "ok.pdf"), FallbackRule(pages=9))
    assert not analysis.estimated
    assert [p.colour for p in analysis.pages] == [PageColour.MONO, PageColour.COLOUR]


def test_fallback_rule_from_configuration_rejects_bad_entries() -> None:
    assert FallbackRule.from_mapping({"pages": 2, "colour": False}) == FallbackRule(2, False, "A4")
    with pytest.raises(
        ValueError, match=r"kiosk.toml \[estimate.fallback\]: unknown key\(s\) page"
    ):
        FallbackRule.from_mapping({"page": 2}, where="kiosk.toml [estimate.fallback]")
    with pytest.raises(ValueError, match="pages must be a whole number"):
        FallbackRule.from_mapping({"pages": 0})
    with pytest.raises(ValueError, match="paper_size must be one of"):
        FallbackRule.from_mapping({"paper_size": "B5"})
    with pytest.raises(ValueError, match="colour must be true or false"):
        FallbackRule.from_mapping({"colour": "yes"})


def test_fallback_applies_to_isolated_analysis_too(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n garbage")
    estimate = analyse_or_fall_back(broken, FallbackRule(pages=2), analyse=analyse_isolated)
    assert estimate.estimated and estimate.page_count == 2 and estimate.path == broken
