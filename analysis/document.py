"""Analysing any print file: sniff its language, pick the analyser, collect the pages.

This is the one entry point the rest of the terminal calls. It never lets a foreign
exception out: anything that goes wrong is a :class:`DocumentAnalysisError` naming the
file, which the caller turns into the configured fallback estimate.
"""

from __future__ import annotations

import gzip
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from analysis.errors import DocumentAnalysisError, MalformedDocument, UnsupportedDocument
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
        raise MalformedDocument(shown_as, f"the gzip'd job cannot be expanded ({exc})") from exc


def iter_pages(
    path: Path, shown_as: Path | None = None
) -> tuple[DocumentFormat, Iterator[PageAnalysis]]:
    """The format of ``path`` and a lazy iterator over its pages (constant memory).

    gzip'd files are not handled here (they need a temporary file for as long as the
    pages are read): :func:`analyse_document` expands them first.
    """
    name = shown_as or path
    kind = sniff(read_head(path, name), name)
    if kind is DocumentFormat.PDF:
        return kind, analyse_pdf_pages(path, name)
    if kind in (DocumentFormat.POSTSCRIPT, DocumentFormat.EPS):
        return kind, analyse_postscript_pages(path, eps=kind is DocumentFormat.EPS, shown_as=name)
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


def _collect(path: Path, shown_as: Path) -> DocumentAnalysis:
    kind, pages = iter_pages(path, shown_as)
    try:
        collected = list(pages)
    except DocumentAnalysisError:
        raise
    except Exception as exc:
        # A parser meeting bytes it never expected (IndexError, struct.error, PDFium's
        # RuntimeError, ...) is a damaged file to the caller, never a crash.
        raise MalformedDocument(
            shown_as, f"the {kind.value} file cannot be analysed ({exc})"
        ) from exc
    return DocumentAnalysis(path=shown_as, format=kind.value, pages=collected)


def analyse_document(path: Path | str) -> DocumentAnalysis:
    """Analyse one print file; raise :class:`DocumentAnalysisError` if it cannot be done."""
    path = Path(path)
    if sniff(read_head(path), path) is not DocumentFormat.GZIP:
        return _collect(path, path)
    with tempfile.TemporaryDirectory(prefix="printkiosk-gz-") as work:
        expanded = Path(work) / "expanded"
        _gunzip(path, expanded, path)
        analysis = _collect(expanded, path)
    return replace(analysis, format=f"{analysis.format}+gzip")
