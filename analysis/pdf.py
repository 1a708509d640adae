"""PDF analysis with PDFium: page sizes, and each page's colour class.

Each page is first walked object by object (:mod:`analysis.pdf_objects`), which
settles plain mono pages, colour text and tiny colour marks without rendering. The rest are
rendered at ``RENDER_DPI`` and measured (:mod:`analysis.raster`): at 20 dpi a
rendering costs little, large colour areas and colour images are unmistakable, and the
object walk has already covered the small marks such a resolution would wash out.
Pages are loaded and closed one at a time, so memory does not grow with the page count.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from analysis.errors import DocumentAnalysisError, EncryptedDocument, MalformedDocument
from analysis.model import PageAnalysis, PageColour
from analysis.paper import paper_size
from analysis.pdf_objects import scan_page
from analysis.raster import summarise

RENDER_DPI = 20.0
# Objects narrower than this many render pixels are judged by declared colour, not pixels.
SMALL_PIXELS = 3.0
# PDFium is not thread-safe: one thread at a time uses it. Re-entrant, so one thread may
# interleave two documents' page iterators without deadlocking itself.
_PDFIUM_LOCK = threading.RLock()


def open_pdf(path: Path, shown_as: Path | None = None) -> pdfium.PdfDocument:
    """Open with PDFium, translating its failures into our error family."""
    name = shown_as or path
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedDocument(name, "the PDF is encrypted and needs a password") from exc
        raise MalformedDocument(name, f"the PDF cannot be read ({exc})") from exc
    except OSError as exc:
        raise DocumentAnalysisError(name, f"the file cannot be read ({exc.strerror})") from exc
    document.init_forms()  # form fields (widgets) print too; PDFium draws them only then
    if len(document) == 0:
        document.close()
        raise MalformedDocument(name, "the PDF has no pages")
    return document


def classify(page: pdfium.PdfPage) -> PageColour:
    """Colour class of one loaded page (object walk first, rendering only if needed)."""
    scan = scan_page(page.raw, SMALL_PIXELS * 72.0 / RENDER_DPI, page.get_bbox())
    if scan.tiny_colour:
        return PageColour.COLOUR
    if scan.needs_render:
        bitmap = page.render(scale=RENDER_DPI / 72.0, rev_byteorder=True, may_draw_forms=True)
        summary = summarise(bitmap.to_pil())
        bitmap.close()
        if summary.is_colour:
            return PageColour.COLOUR
        if summary.has_ink:
            return PageColour.MONO
    return PageColour.MONO if scan.ink else PageColour.BLANK


def analyse_pdf_pages(path: Path, shown_as: Path | None = None) -> Iterator[PageAnalysis]:
    """Yield every page's analysis in order; errors name ``shown_as`` (or ``path``)."""
    with _PDFIUM_LOCK:
        yield from _pages(path, shown_as)


def _pages(path: Path, shown_as: Path | None) -> Iterator[PageAnalysis]:
    document = open_pdf(path, shown_as)
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                width, height = page.get_size()  # as displayed: /Rotate already applied
                yield PageAnalysis(index + 1, classify(page), paper_size(width, height))
            finally:
                page.close()
    except pdfium.PdfiumError as exc:
        raise MalformedDocument(
            shown_as or path, f"page {index + 1} cannot be read ({exc})"
        ) from exc
    finally:
        document.close()
