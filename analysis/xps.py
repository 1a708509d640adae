"""XPS (OpenXPS) documents: pages and sizes from the package, colours from the markup.

An XPS file is a zip of XML parts: ``_rels/.rels`` points at the FixedDocumentSequence,
which lists FixedDocuments, which list FixedPages with their size in 1/96 inch. Colour
is judged from what each page declares -- the brush colours of its paths and glyphs
(``#RRGGBB``, ``#AARRGGBB``, ``sc#`` scRGB) and the pixels of the images it paints,
decoded at thumbnail size -- so tiny colour text counts as colour here too. Attribute
values are read with regular expressions: the parts are machine-written and no XML
entity expansion is ever performed on them. Parts are read one page at a time.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from analysis.errors import DocumentAnalysisError, MalformedDocument
from analysis.model import PageAnalysis, PageColour
from analysis.paper import paper_size
from analysis.raster import is_colour_rgb, is_ink_rgb, summarise

POINTS_PER_XPS_UNIT = 72 / 96
_ROOT_RELATION = re.compile(
    rb'Type="[^"]*/fixedrepresentation"[^>]*?Target="([^"]+)"|'
    rb'Target="([^"]+)"[^>]*?Type="[^"]*/fixedrepresentation"'
)
_SOURCE = re.compile(rb'<(?:\w+:)?(?:DocumentReference|PageContent)\b[^>]*?\bSource="([^"]+)"')
_PAGE_SIZE = re.compile(rb'<(?:\w+:)?FixedPage\b[^>]*?\bWidth="([\d.]+)"[^>]*?\bHeight="([\d.]+)"')
_COLOUR = re.compile(rb'\b(?:Fill|Stroke|Color)="((?:#|sc#|ContextColor )[^"]*)"')
_IMAGE = re.compile(rb'\bImageSource="([^"{][^"]*)"')
_PAINTING = re.compile(rb"<(?:\w+:)?(?:Path|Glyphs)\b")
_THUMBNAIL = (64, 64)


def _part(archive: zipfile.ZipFile, name: str, shown_as: Path) -> bytes:
    try:
        return archive.read(name.lstrip("/"))
    except KeyError as exc:
        raise MalformedDocument(shown_as, f"the XPS package has no part {name}") from exc
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise MalformedDocument(shown_as, f"the XPS part {name} is damaged ({exc})") from exc


def _resolve(base: str, target: str) -> str:
    target = target.split("#", 1)[0]
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _page_names(archive: zipfile.ZipFile, shown_as: Path) -> Iterator[str]:
    relations = _part(archive, "_rels/.rels", shown_as)
    match = _ROOT_RELATION.search(relations)
    if match is None:
        raise MalformedDocument(shown_as, "the XPS package names no FixedDocumentSequence")
    sequence = _resolve("", (match.group(1) or match.group(2)).decode())
    for document_ref in _SOURCE.findall(_part(archive, sequence, shown_as)):
        document = _resolve(sequence, document_ref.decode())
        for page_ref in _SOURCE.findall(_part(archive, document, shown_as)):
            yield _resolve(document, page_ref.decode())


def _declared_rgb(value: bytes) -> tuple[int, int, int, int] | None:
    """(alpha, r, g, b) of an XPS colour; None for colours we cannot read as RGB."""
    text = value.decode("ascii", "replace").strip()
    if text.startswith("#") and len(text) in (7, 9):
        digits = text[1:] if len(text) == 9 else "FF" + text[1:]
        alpha, red, green, blue = (int(digits[i : i + 2], 16) for i in range(0, 8, 2))
        return alpha, red, green, blue
    if text.startswith("sc#"):
        parts = [float(p) for p in text[3:].split(",")]
        if len(parts) == 3:
            parts.insert(0, 1.0)
        alpha, red, green, blue = (round(max(0.0, min(1.0, p)) * 255) for p in parts[:4])
        return alpha, red, green, blue
    return None


def _image_colour(archive: zipfile.ZipFile, name: str) -> PageColour:
    try:
        with Image.open(io.BytesIO(archive.read(name))) as image:
            image.draft("RGB", _THUMBNAIL)
            image.thumbnail(_THUMBNAIL)
            summary = summarise(image.convert("RGB"))
    except (KeyError, OSError, EOFError, zlib.error, ValueError, Image.DecompressionBombError):
        return PageColour.COLOUR  # an image we cannot check is assumed colour: never undercharge
    if summary.is_colour:
        return PageColour.COLOUR
    return PageColour.MONO if summary.has_ink else PageColour.BLANK


def _page_colour(archive: zipfile.ZipFile, name: str, markup: bytes) -> PageColour:
    if not _PAINTING.search(markup):
        return PageColour.BLANK
    ink = False
    for value in _COLOUR.findall(markup):
        try:
            rgb = _declared_rgb(value)
        except ValueError:
            rgb = None
        if rgb is None:
            return PageColour.COLOUR  # ContextColor (ICC) and unreadable values
        alpha, red, green, blue = rgb
        if alpha == 0:
            continue
        if is_colour_rgb(red, green, blue):
            return PageColour.COLOUR
        ink = ink or is_ink_rgb(red, green, blue)
    for source in _IMAGE.findall(markup):
        colour = _image_colour(archive, _resolve(name, source.decode()))
        if colour is PageColour.COLOUR:
            return colour
        ink = ink or colour is PageColour.MONO
    return PageColour.MONO if ink else PageColour.BLANK


def analyse_xps_pages(path: Path, shown_as: Path) -> Iterator[PageAnalysis]:
    """Yield each FixedPage of the package in document order."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise MalformedDocument(shown_as, f"the XPS package is not a valid zip ({exc})") from exc
    except OSError as exc:
        raise DocumentAnalysisError(shown_as, f"the file cannot be read ({exc.strerror})") from exc
    with archive:
        number = 0
        for name in _page_names(archive, shown_as):
            markup = _part(archive, name, shown_as)
            size = _PAGE_SIZE.search(markup)
            if size is None:
                raise MalformedDocument(shown_as, f"the XPS page {name} has no Width/Height")
            width, height = (float(v) * POINTS_PER_XPS_UNIT for v in size.groups())
            number += 1
            yield PageAnalysis(
                number, _page_colour(archive, name, markup), paper_size(width, height)
            )
        if number == 0:
            raise MalformedDocument(shown_as, "the XPS package has no pages")
