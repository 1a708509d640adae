"""Analysing any print file: sniff its language, pick the analyser, collect the pages.

This is the one entry point the rest of the terminal calls. It never lets a foreign
exception out: anything that goes wrong is a :class:`DocumentAnalysisError` naming the
file, which the caller turns into the configured fallback estimate.
"""

from __future__ import annotations

import gzip
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from analysis.errors import (
    AnalysisStopped,
    DocumentAnalysisError,
    MalformedDocument,
    UnsupportedDocument,
    describe,
)
from analysis.formats import DocumentFormat, read_head, sniff
from analysis.model import DocumentAnalysis, PageAnalysis
from analysis.pcl5 import analyse_pcl5_pages
from analysis.pclxl import analyse_pclxl_pages
from analysis.pdf import analyse_pdf_pages
from analysis.postscript import analyse_postscript_pages
from analysis.xps import analyse_xps_pages

# A gzip'd job expanding beyond this is refused rather than filling the disk.
MAX_EXPANDED_BYTES = 2 * 1024**3
_CHUNK = 1024 * 1024
TotalCallback = Callable[[int], None]


def _gunzip(source: Path, target: Path, shown_as: Path) -> None:
    written = 0
    try:
        with gzip.open(source, "rb") as compressed, target.open("wb") as out:
            while chunk := compressed.read(_CHUNK):
                written += len(chunk)
                if written > MAX_EXPANDED_BYTES:
                    raise MalformedDocument(shown_as, "the gzip'd job expands beyond 2 GiB")
                out.write(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise MalformedDocument(
            shown_as, f"the gzip'd job cannot be expanded after {written} bytes: {describe(exc)}"
        ) from exc


def iter_pages(
    path: Path, shown_as: Path | None = None, on_total: TotalCallback | None = None
) -> tuple[DocumentFormat, Iterator[PageAnalysis]]:
    """The format of ``path`` and a lazy iterator over its pages (constant memory).

    gzip'd files are not handled here (they need a temporary file for as long as the
    pages are read): :func:`stream_document` expands them first. ``on_total`` is told the
    page count when the format declares it up front (PDF, and PostScript once converted).
    """
    name = shown_as or path
    kind = sniff(read_head(path, name), name)
    if kind is DocumentFormat.PDF:
        return kind, analyse_pdf_pages(path, name, on_total)
    if kind in (DocumentFormat.POSTSCRIPT, DocumentFormat.EPS):
        return kind, analyse_postscript_pages(
            path, eps=kind is DocumentFormat.EPS, shown_as=name, on_total=on_total
        )
    if kind is DocumentFormat.PCL_XL:
        return kind, analyse_pclxl_pages(path, name)
    if kind is DocumentFormat.PCL5:
        return kind, analyse_pcl5_pages(path, name)
    if kind is DocumentFormat.XPS:
        return kind, analyse_xps_pages(path, name)
    if kind is DocumentFormat.GZIP:
        raise UnsupportedDocument(name, "the job is gzip'd twice")
    raise UnsupportedDocument(
        name, f"{kind.value} files are not analysed (already rasterised for one printer)"
    )


def _translated(
    kind: DocumentFormat, pages: Iterator[PageAnalysis], shown_as: Path
) -> Iterator[PageAnalysis]:
    done = 0
    try:
        for page in pages:
            done = page.number
            yield page
    except (DocumentAnalysisError, MemoryError):
        raise  # ours already; MemoryError is the machine's limit, not the file's fault
    except Exception as exc:
        # A parser meeting bytes it never expected (IndexError, struct.error, PDFium's
        # RuntimeError, ...) is a damaged file to the caller, never a crash.
        raise MalformedDocument(
            shown_as, f"the {kind.value} file cannot be analysed at page {done + 1}: "
            f"{describe(exc)}"
        ) from exc


def stream_document(
    path: Path | str,
    on_format: Callable[[str], None] | None = None,
    on_total: TotalCallback | None = None,
) -> Iterator[PageAnalysis]:
    """Every page of any print file, one at a time, in order (constant memory).

    ``on_format`` is told the format name (``pdf``, ``postscript+gzip``, ...) before the
    first page, ``on_total`` the page count when the format declares it. Errors are
    :class:`DocumentAnalysisError`; a ``MemoryError`` propagates (the isolated worker
    reports it as the memory limit).
    """
    path = Path(path)
    if sniff(read_head(path), path) is not DocumentFormat.GZIP:
        kind, pages = iter_pages(path, path, on_total)
        if on_format is not None:
            on_format(kind.value)
        yield from _translated(kind, pages, path)
        return
    with tempfile.TemporaryDirectory(prefix="printkiosk-gz-") as work:
        expanded = Path(work) / "expanded"
        _gunzip(path, expanded, path)
        kind, pages = iter_pages(expanded, path, on_total)
        if on_format is not None:
            on_format(f"{kind.value}+gzip")
        yield from _translated(kind, pages, path)


def analyse_document(path: Path | str) -> DocumentAnalysis:
    """Analyse one print file; raise :class:`DocumentAnalysisError` if it cannot be done.

    The error carries the pages analysed before it and the declared page count.
    """
    path = Path(path)
    found: dict[str, Any] = {"format": "unknown", "total": None}
    collected: list[PageAnalysis] = []
    try:
        for page in stream_document(
            path, lambda name: found.update(format=name), lambda n: found.update(total=n)
        ):
            collected.append(page)
    except DocumentAnalysisError as error:
        error.pages = error.pages or collected
        error.page_total = error.page_total or found["total"]
        raise
    except MemoryError as exc:
        raise AnalysisStopped(
            path, f"out of memory at page {len(collected) + 1}",
            pages=collected, page_total=found["total"],
        ) from exc
    return DocumentAnalysis(path=path, format=found["format"], pages=collected)
