"""PDF analysis with PDFium: page sizes, and each page's colour class.

Each page is first walked object by object (:mod:`analysis.pdf_objects`), which
settles plain mono pages, colour text and tiny colour marks without rendering. The rest are
rendered at ``RENDER_DPI`` and measured (:mod:`analysis.raster`): at 20 dpi a
rendering costs little, large colour areas and colour images are unmistakable, and the
object walk has already covered the small marks such a resolution would wash out.
A page the walk could not see whole (forms nested beyond PDFium's limit, too many
objects) is decided by Ghostscript's rendering instead (:mod:`analysis.renderer`), and is
colour when that fails too. Pages are loaded and closed one at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from analysis.errors import DocumentAnalysisError, EncryptedDocument, MalformedDocument
from analysis.model import PageAnalysis, PageColour
from analysis.paper import paper_size
from analysis.pdf_objects import scan_page
from analysis.raster import summarise
from analysis.renderer import ghostscript_page_colour

RENDER_DPI = 20.0
# Objects narrower than this many render pixels are judged by declared colour, not pixels.
SMALL_PIXELS = 3.0
# PDFium is not thread-safe: one thread at a time uses it. Re-entrant, so one thread may
# interleave two documents' page iterators without deadlocking itself.
_PDFIUM_LOCK = threading.RLock()


# PDFium's load error codes in words (its own text says "Success" when it gave no code).
_LOAD_ERRORS = {
    pdfium_c.FPDF_ERR_FILE: "the file cannot be opened or read",
    pdfium_c.FPDF_ERR_FORMAT: (
        "it is not a valid PDF: the cross-reference table or trailer is damaged or missing"
    ),
    pdfium_c.FPDF_ERR_PAGE: "its page tree is damaged",
}
_NO_REASON = "PDFium gave no reason (a structure it cannot parse, or out of memory)"
# PDFium's colour classes, cheapest first: a second opinion may only raise a verdict.
_ORDER = (PageColour.BLANK, PageColour.MONO, PageColour.COLOUR)
# (pdf path, 1-based page number, page size in points) -> verdict, or None if none
SecondOpinion = Callable[[Path, int, tuple[float, float]], PageColour | None]


def open_pdf(path: Path, shown_as: Path | None = None) -> pdfium.PdfDocument:
    """Open with PDFium, translating its failures into our error family."""
    name = shown_as or path
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedDocument(name, "the PDF is encrypted and needs a password") from exc
        why = _LOAD_ERRORS.get(code, _NO_REASON)
        raise MalformedDocument(name, f"the PDF cannot be opened: {why}") from exc
    except OSError as exc:
        raise DocumentAnalysisError(name, f"the file cannot be read ({exc.strerror})") from exc
    document.init_forms()  # form fields (widgets) print too; PDFium draws them only then
    if len(document) == 0:
        document.close()
        raise MalformedDocument(name, "the PDF has no pages")
    return document


def classify(
    page: pdfium.PdfPage,
    source: Path,
    number: int,
    second_opinion: SecondOpinion = ghostscript_page_colour,
) -> PageColour:
    """Colour class of page ``number`` of ``source``, loaded as ``page``.

    Object walk first, PDFium rendering only if needed; when the walk could not see the
    whole page, ``second_opinion`` (Ghostscript) may raise the verdict, and the page is
    colour if it cannot say.
    """
    scan = scan_page(page.raw, SMALL_PIXELS * 72.0 / RENDER_DPI, page.get_bbox())
    if scan.tiny_colour:
        return PageColour.COLOUR
    verdict = PageColour.MONO if scan.ink else PageColour.BLANK
    if scan.needs_render:
        bitmap = page.render(scale=RENDER_DPI / 72.0, rev_byteorder=True, may_draw_forms=True)
        summary = summarise(bitmap.to_pil())
        bitmap.close()
        if summary.is_colour:
            return PageColour.COLOUR
        if summary.has_ink:
            verdict = PageColour.MONO
    if scan.incomplete is None:
        return verdict
    other = second_opinion(source, number, page.get_size())
    if other is None:
        return PageColour.COLOUR
    return max(verdict, other, key=_ORDER.index)


def analyse_pdf_pages(
    path: Path, shown_as: Path | None = None, on_total: Callable[[int], None] | None = None
) -> Iterator[PageAnalysis]:
    """Yield every page's analysis in order; errors name ``shown_as`` (or ``path``).

    ``on_total`` is told the page count as soon as the document is open, before any
    page is analysed (so a limit that stops the analysis still knows how many there are).
    """
    with _PDFIUM_LOCK:
        yield from _pages(path, shown_as, on_total)


def _pages(
    path: Path, shown_as: Path | None, on_total: Callable[[int], None] | None
) -> Iterator[PageAnalysis]:
    document = open_pdf(path, shown_as)
    total = len(document)
    if on_total is not None:
        on_total(total)
    try:
        for index in range(total):
            try:
                page = document[index]
            except pdfium.PdfiumError as exc:
                raise MalformedDocument(
                    shown_as or path,
                    f"page {index + 1} of {total} cannot be loaded: its page object or "
                    "content stream is damaged",
                ) from exc
            try:
                width, height = page.get_size()  # as displayed: /Rotate already applied
                yield PageAnalysis(index + 1, classify(page, path, index + 1),
                                   paper_size(width, height))
            finally:
                page.close()
    finally:
        document.close()
