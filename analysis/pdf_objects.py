"""A walk over a PDF page's objects (through PDFium) that decides most pages unrendered.

Rendering is the slow part of analysis (decoding a 300 dpi scan costs far more than the
rest), and most printed pages are plain black text and greyscale images. So the walk
looks at what PDFium already parsed: each text, path and image object's declared colour
after colour-space conversion (spot, DeviceN and ICC colours included), and each image's
colour space without decoding it. It sorts what it finds:

* visible colour text (at any size: glyph strokes are thin) and visible colour objects
  smaller than a few render pixels (dots, small logos, judged by their own pixels): the
  page is colour, because a low-resolution rendering would dilute them into noise --
  this is what inkcov cannot see;
* anything the walk cannot judge (colour-space images, shadings, annotations, colour
  objects big enough to be seen but possibly hidden under others): the page must be
  rendered;
* otherwise the page is mono if some visible object has ink, else blank.

The walk can be incomplete, and then it must not decide: PDFium parses Form XObjects only
40 levels deep (a form nested deeper comes back empty, so colour at the bottom of 48
nested forms would read as blank), and the walk itself stops after ``MAX_OBJECTS``
objects or ``WALK_SECONDS`` on one page. ``ObjectScan.incomplete`` then says why, and the
page goes to a renderer that reads the whole page (:mod:`analysis.renderer`).
"""

from __future__ import annotations

import ctypes
import io
import time
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from analysis.raster import RasterSummary, is_colour_rgb, is_ink_rgb, summarise

# Text render modes (PDF 32000 9.3.6) that fill, that stroke, and that paint nothing.
_FILLING_MODES = frozenset({0, 2, 4, 6})
_STROKING_MODES = frozenset({1, 2, 5, 6})
_GREY_IMAGE_SPACES = frozenset(
    {pdfium_c.FPDF_COLORSPACE_DEVICEGRAY, pdfium_c.FPDF_COLORSPACE_CALGRAY}
)
_RGB_SPACES = frozenset({pdfium_c.FPDF_COLORSPACE_DEVICERGB, pdfium_c.FPDF_COLORSPACE_ICCBASED})
_MAX_JPEG_BYTES = 64 * 1024 * 1024
_PATTERN_PLACEHOLDERS = frozenset({(255, 255, 255), (191, 191, 191)})
_SILENT_ANNOTATIONS = frozenset({pdfium_c.FPDF_ANNOT_LINK, pdfium_c.FPDF_ANNOT_POPUP})
# PDFium's own nesting limit for Form XObjects (kMaxFormLevel in its content parser): a
# form deeper than this is not parsed and comes back with no objects.
MAX_FORM_DEPTH = 40
# Bounds on the walk of one page: beyond them the page goes to the renderer. 100 000
# objects take about 0.6 s to walk here; PDFium itself parses them in about a tenth.
MAX_OBJECTS = 100_000
WALK_SECONDS = 5.0


@dataclass(slots=True)
class ObjectScan:
    """What the walk concluded about one page."""

    tiny_colour: bool = False
    needs_render: bool = False
    ink: bool = False
    # why the walk did not see the whole page (None: it did, or colour was found first)
    incomplete: str | None = None


class _Walker:
    """Reusable ctypes out-parameters, so a page with 10 000 objects allocates nothing."""

    def __init__(
        self,
        small_points: float,
        box: tuple[float, float, float, float],
        max_objects: int,
        seconds: float,
    ) -> None:
        self.small = small_points
        self.box = box
        self.max_objects = max_objects
        self.objects_left = max_objects
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.r, self.g, self.b, self.a = (ctypes.c_uint() for _ in range(4))
        self.left, self.bottom, self.right, self.top = (ctypes.c_float() for _ in range(4))
        self.fill_mode = ctypes.c_int()
        self.stroke = ctypes.c_int()
        self.metadata = pdfium_c.FPDF_IMAGEOBJ_METADATA()

    def _colour(self, obj: int, stroke: bool) -> tuple[int, int, int] | None:
        getter = (
            pdfium_c.FPDFPageObj_GetStrokeColor if stroke else pdfium_c.FPDFPageObj_GetFillColor
        )
        if not getter(obj, self.r, self.g, self.b, self.a) or self.a.value == 0:
            return None
        return self.r.value, self.g.value, self.b.value

    def _on_page(self, obj: int) -> bool:
        """Whether a page-level object's bounds meet the visible page box at all.

        Empty bounds prove nothing: a form whose nested content PDFium dropped has
        empty bounds, and must still be walked to find out that it was cut.
        """
        if not pdfium_c.FPDFPageObj_GetBounds(obj, self.left, self.bottom, self.right, self.top):
            return True
        if self.right.value <= self.left.value or self.top.value <= self.bottom.value:
            return True
        left, bottom, right, top = self.box
        return (
            self.left.value < right
            and self.right.value > left
            and self.bottom.value < top
            and self.top.value > bottom
        )

    def _is_small(self, obj: int) -> bool:
        if not pdfium_c.FPDFPageObj_GetBounds(obj, self.left, self.bottom, self.right, self.top):
            return False
        width = self.right.value - self.left.value
        height = self.top.value - self.bottom.value
        return min(width, height) < self.small or width * height < self.small * self.small * 4

    def _note_colour(
        self, obj: int, colour: tuple[int, int, int] | None, scan: ObjectScan, is_text: bool
    ) -> None:
        if colour is None:
            return
        if colour in _PATTERN_PLACEHOLDERS:
            # PDFium reports pattern fills (tiling or shading) as one of these placeholder
            # colours, so what they paint is only known by rendering; plain white or 75 %
            # grey objects pay one cheap rendering for that.
            scan.needs_render = True
            return
        if is_colour_rgb(*colour):
            # Text is judged on its declared colour at any size: glyph strokes are thin,
            # so even 8 pt colour text can fade below the threshold at a low resolution.
            if is_text or self._is_small(obj):
                scan.tiny_colour = True
            else:
                scan.needs_render = True
        elif is_ink_rgb(*colour):
            scan.ink = True

    def _stop(self, scan: ObjectScan) -> bool:
        """Whether the walk must stop here, noting why it is incomplete if so."""
        if scan.tiny_colour or scan.incomplete:
            return True
        self.objects_left -= 1
        if self.objects_left < 0:
            scan.incomplete = f"more than {self.max_objects} objects on the page"
        elif self.objects_left % 1024 == 0 and time.monotonic() > self.deadline:
            scan.incomplete = f"walking its objects took over {self.seconds:g} s"
        return scan.incomplete is not None

    def walk(self, page: int, parent: int, depth: int, scan: ObjectScan) -> None:
        """Walk the objects of the page (``depth`` 0) or of a form ``depth`` levels deep."""
        is_form = depth > 0
        if depth > MAX_FORM_DEPTH:
            scan.incomplete = f"Form XObjects nested more than {MAX_FORM_DEPTH} deep"
            return
        count = (pdfium_c.FPDFFormObj_CountObjects if is_form else pdfium_c.FPDFPage_CountObjects)(
            parent
        )
        get = pdfium_c.FPDFFormObj_GetObject if is_form else pdfium_c.FPDFPage_GetObject
        for index in range(count):
            if self._stop(scan):
                return
            obj = get(parent, index)
            # inside a form, bounds are in the form's space: its own check covered them
            if not is_form and not self._on_page(obj):
                continue
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj)
                if mode in _FILLING_MODES:
                    self._note_colour(obj, self._colour(obj, stroke=False), scan, is_text=True)
                if mode in _STROKING_MODES:
                    self._note_colour(obj, self._colour(obj, stroke=True), scan, is_text=True)
            elif kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                if not pdfium_c.FPDFPath_GetDrawMode(obj, self.fill_mode, self.stroke):
                    scan.needs_render = True
                    continue
                if self.fill_mode.value:
                    self._note_colour(obj, self._colour(obj, stroke=False), scan, is_text=False)
                if self.stroke.value:
                    self._note_colour(obj, self._colour(obj, stroke=True), scan, is_text=False)
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                self._note_image(page, obj, scan)
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                self.walk(page, obj, depth + 1, scan)
            else:  # shadings, and object kinds PDFium may add later
                scan.needs_render = True

    def _note_image(self, page: int, obj: int, scan: ObjectScan) -> None:
        if not pdfium_c.FPDFImageObj_GetImageMetadata(obj, page, self.metadata):
            scan.needs_render = True
            return
        if self.metadata.colorspace in _GREY_IMAGE_SPACES:
            if self.metadata.bits_per_pixel == 1:
                # could be a stencil mask painted in the fill colour
                self._note_colour(obj, self._colour(obj, stroke=False), scan, is_text=False)
            scan.ink = True
            return
        if self._is_small(obj):
            # a few render pixels would average a small logo into grey: judge its own pixels
            pixels = _image_pixels(obj)
            if pixels is None:
                scan.needs_render = True
            elif pixels.is_colour:
                scan.tiny_colour = True
            elif pixels.has_ink:
                scan.ink = True
            return
        jpeg = _rgb_jpeg_summary(obj) if self.metadata.colorspace in _RGB_SPACES else None
        if jpeg is None or jpeg.is_colour:
            scan.needs_render = True  # colour pixels, but visible? the rendering decides
        elif jpeg.has_ink:
            scan.ink = True


def _image_pixels(obj: int) -> RasterSummary | None:
    """The image's own pixels as PDFium decodes them (colour-converted, unscaled)."""
    raw = pdfium_c.FPDFImageObj_GetBitmap(obj)
    if not raw:
        return None
    # The bitmap is freed by its finaliser once the last reference (the PIL view on its
    # buffer) goes; closing it explicitly while a view exists is what pypdfium2 warns about.
    image = pdfium.PdfBitmap.from_raw(raw).to_pil()
    return summarise(image if image.mode in ("RGB", "RGBA", "RGBX") else image.convert("RGB"))


def _rgb_jpeg_summary(obj: int) -> RasterSummary | None:
    """Pixels of an RGB JPEG image decoded at 1/8 scale (cheap), or None if not one.

    Photos are the usual RGB-encoded greys, and JPEG lets Pillow decode a thumbnail
    straight from the DCT coefficients: far cheaper than rendering the page.
    """
    if pdfium_c.FPDFImageObj_GetImageFilterCount(obj) != 1:
        return None
    name = ctypes.create_string_buffer(32)
    pdfium_c.FPDFImageObj_GetImageFilter(obj, 0, name, len(name))
    if name.value != b"DCTDecode":
        return None
    size = pdfium_c.FPDFImageObj_GetImageDataRaw(obj, None, 0)
    if size <= 0 or size > _MAX_JPEG_BYTES:
        return None
    data = (ctypes.c_ubyte * size)()
    pdfium_c.FPDFImageObj_GetImageDataRaw(obj, data, size)
    try:
        with Image.open(io.BytesIO(bytes(data))) as image:
            if image.mode not in ("RGB", "L"):
                return None  # CMYK/YCCK JPEGs: leave the conversion to PDFium's renderer
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
            return summarise(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def scan_page(
    page: int,
    small_points: float,
    box: tuple[float, float, float, float],
    *,
    max_objects: int = MAX_OBJECTS,
    seconds: float = WALK_SECONDS,
) -> ObjectScan:
    """Walk one loaded PDFium page (``FPDF_PAGE``).

    ``small_points`` is the size below which an object counts as tiny; ``box`` is the
    visible page area (left, bottom, right, top): objects wholly outside it print nothing.
    The walk stops after ``max_objects`` objects or ``seconds``, noting it in the scan.
    """
    scan = ObjectScan()
    for index in range(pdfium_c.FPDFPage_GetAnnotCount(page)):
        annotation = pdfium_c.FPDFPage_GetAnnot(page, index)
        subtype = pdfium_c.FPDFAnnot_GetSubtype(annotation)
        pdfium_c.FPDFPage_CloseAnnot(annotation)
        if subtype not in _SILENT_ANNOTATIONS:
            scan.needs_render = True
            break
    walker = _Walker(small_points, box, max_objects, seconds)
    walker.walk(page, page, 0, scan)
    return scan
