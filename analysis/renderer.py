"""A second opinion on one PDF page, from Ghostscript, for pages PDFium cannot fully read.

The object walk (:mod:`analysis.pdf_objects`) sometimes cannot see a whole page: PDFium
drops Form XObjects nested deeper than 40 levels, and the walk stops after a bounded
number of objects or seconds. Rendering with PDFium would not help for the first case
(its renderer drops the same forms), so the page is rendered by another interpreter --
Ghostscript, the one the CUPS filters print with -- and measured by the same colour rule.
Ghostscript renders without anti-aliasing, so a colour glyph or hairline keeps its full
colour in the pixels it touches; ``RENDER_DPI`` is high enough that a 1 pt mark covers a
pixel. When Ghostscript is missing, fails or runs out of time, the page is colour: an
incomplete analysis never makes a page cheaper.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from pathlib import Path

from PIL import Image

from analysis.model import PageColour
from analysis.raster import summarise

RENDER_DPI = 72
RENDER_SECONDS = 60
# A poster-sized page is rendered at a lower resolution: at most this many pixels (~60 MB).
MAX_PIXELS = 20_000_000


def render_dpi(width: float, height: float) -> int:
    """``RENDER_DPI``, lowered so that a page of ``width`` x ``height`` points stays bounded."""
    square_inches = max(width, 1.0) * max(height, 1.0) / 72**2
    return max(1, min(RENDER_DPI, int(math.sqrt(MAX_PIXELS / square_inches))))


def ghostscript_page_colour(
    path: Path, number: int, size: tuple[float, float]
) -> PageColour | None:
    """Colour class of page ``number`` (1-based, ``size`` in points) as Ghostscript renders it.

    None when it cannot say: no Ghostscript, a failure, an error in the page, a timeout.
    """
    gs = shutil.which("gs")
    if gs is None:
        return None
    command = [
        gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dUseCropBox", "-sstdout=%stderr",
        "-sDEVICE=ppmraw", f"-r{render_dpi(*size)}", f"-dFirstPage={number}",
        f"-dLastPage={number}", "-sOutputFile=-", "-f", str(path),
    ]  # fmt: skip
    try:
        completed = subprocess.run(
            command, capture_output=True, timeout=RENDER_SECONDS, check=False,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (subprocess.TimeoutExpired, OSError):
        return None
    if completed.returncode != 0 or not completed.stdout or b"Error" in completed.stderr:
        return None  # what it rendered may lack what it could not read
    try:
        with Image.open(io.BytesIO(completed.stdout)) as image:
            summary = summarise(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    if summary.is_colour:
        return PageColour.COLOUR
    return PageColour.MONO if summary.has_ink else PageColour.BLANK
