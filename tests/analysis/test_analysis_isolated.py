"""Analysis in a child process gives the same result, and survives hangs and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_truth import JOBS
from mixed_documents import ghostscript_available
from pdf_writer import Page, PdfWriter

from analysis import (
    AnalysisStopped,
    DocumentAnalysisError,
    EncryptedDocument,
    MalformedDocument,
    analyse_document,
    analyse_isolated,
)


def test_same_result_as_in_process(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_page(Page("BT /F1 11 Tf 72 700 Td (mono) Tj ET"))
    writer.add_page(Page("0 0 1 rg 72 72 300 300 re f", width=612, height=792))
    writer.add_page(Page(""))
    path = tmp_path / "job.pdf"
    writer.write(path)
    assert analyse_isolated(path) == analyse_document(path)


@pytest.mark.skipif(not JOBS.is_dir(), reason="shared corpus not present")
def test_error_kind_and_reason_cross_the_process_boundary() -> None:
    with pytest.raises(EncryptedDocument, match="password") as caught:
        analyse_isolated(JOBS / "pypdf__encrypted-file.pdf")
    assert caught.value.path == JOBS / "pypdf__encrypted-file.pdf"


@pytest.mark.skipif(not ghostscript_available(), reason="needs Ghostscript")
def test_endless_postscript_is_stopped_and_reported(tmp_path: Path) -> None:
    job = tmp_path / "loop.ps"
    job.write_text("%!PS\n{ 1 pop } loop\nshowpage\n")
    with pytest.raises(AnalysisStopped, match=r"analysis stopped: over 3 s \(0 pages analysed\)"):
        analyse_isolated(job, timeout_seconds=3)


def test_worker_dying_without_an_answer_is_an_analysis_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = tmp_path / "job.pdf"
    job.write_bytes(b"%PDF-1.4\n")
    monkeypatch.setattr("sys.executable", "/bin/false")  # a child that dies silently
    with pytest.raises(MalformedDocument, match=r"analyser failed \(exit status 1\)"):
        analyse_isolated(job)


def test_worker_crashing_is_named_by_its_signal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = tmp_path / "job.pdf"
    job.write_bytes(b"%PDF-1.4\n")
    crashing = tmp_path / "crashing-python"
    crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crashing.chmod(0o755)
    monkeypatch.setattr("sys.executable", str(crashing))  # a child that dies as C code does
    with pytest.raises(MalformedDocument) as caught:
        analyse_isolated(job)
    assert caught.value.reason == "the analyser crashed (SIGSEGV) (0 pages analysed)"


def test_worker_that_cannot_start_is_an_analysis_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = tmp_path / "job.pdf"
    job.write_bytes(b"%PDF-1.4\n")
    monkeypatch.setattr("sys.executable", str(tmp_path / "no-such-python"))
    with pytest.raises(DocumentAnalysisError, match=r"analyser could not start \(No such file"):
        analyse_isolated(job)


def test_a_crash_is_not_the_memory_limit_because_the_parent_was_big(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linux carries the parent's peak memory into its children's ru_maxrss: a kiosk that
    once held more than half the limit saw every crash reported as the memory limit."""
    ballast = bytearray(300 * 1024 * 1024)
    for offset in range(0, len(ballast), 4096):
        ballast[offset] = 1  # resident, not just reserved
    job = tmp_path / "job.pdf"
    job.write_bytes(b"%PDF-1.4\n")
    crashing = tmp_path / "crashing-python"
    crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crashing.chmod(0o755)
    monkeypatch.setattr("sys.executable", str(crashing))
    with pytest.raises(MalformedDocument) as caught:
        analyse_isolated(job, memory_limit_bytes=512 * 1024 * 1024)
    assert caught.value.reason == "the analyser crashed (SIGSEGV) (0 pages analysed)"
    del ballast
