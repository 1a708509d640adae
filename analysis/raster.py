"""Colour and ink measured on a low-resolution rendering of a page.

A pixel is colour when its channels differ by more than ``CHROMA_THRESHOLD`` (out of
255): equal channels are grey whatever their level, which is exactly the case inkcov
gets wrong (it converts RGB greys to CMY+K and reports non-zero C, M and Y). The margin
absorbs JPEG chroma noise in scanned greys. A page has ink when some channel of some
pixel is darker than ``INK_THRESHOLD``. Pillow does the per-pixel work in C.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from PIL import Image, ImageChops

CHROMA_THRESHOLD = 24
INK_THRESHOLD = 240


@dataclass(frozen=True, slots=True)
class RasterSummary:
    """The largest channel spread of any pixel, and the darkest channel value seen."""

    chroma: int
    darkest: int

    @property
    def is_colour(self) -> bool:
        return self.chroma > CHROMA_THRESHOLD

    @property
    def has_ink(self) -> bool:
        return self.darkest < INK_THRESHOLD


def summarise(image: Image.Image) -> RasterSummary:
    """Measure an RGB-like image (RGB, RGBX or RGBA; alpha is ignored)."""
    red, green, blue = image.split()[:3]
    spread = ImageChops.lighter(
        ImageChops.lighter(ImageChops.difference(red, green), ImageChops.difference(green, blue)),
        ImageChops.difference(red, blue),
    )
    chroma = _band_extrema(spread)[1]
    darkest = min(_band_extrema(band)[0] for band in (red, green, blue))
    return RasterSummary(chroma, darkest)


def _band_extrema(band: Image.Image) -> tuple[int, int]:
    low, high = cast(tuple[int, int], band.getextrema())
    return int(low), int(high)


def is_colour_rgb(red: int, green: int, blue: int) -> bool:
    """The same colour rule for one declared colour (a text or path colour)."""
    return max(red, green, blue) - min(red, green, blue) > CHROMA_THRESHOLD


def is_ink_rgb(red: int, green: int, blue: int) -> bool:
    """The same ink rule for one declared colour."""
    return min(red, green, blue) < INK_THRESHOLD
