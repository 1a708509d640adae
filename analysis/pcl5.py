"""PCL 5 streams: pages and page size by walking escape sequences (a heuristic).

PCL 5 has no page objects: a page ends at a form feed, at a reset (``ESC E``) after
something was printed, at a paper-source command (``ESC &l#H``) and at the end of the
job. The walker skips the binary payload of every ``...#W`` / ``ESC &p#X`` command
(raster rows, fonts, palettes) so their bytes are never mistaken for text or form feeds,
and follows the page size (``ESC &l#A``) and orientation (``ESC &l#O``). Colour: a page
is colour when a colour palette is active (``ESC *r3U``, ``ESC *r-3U`` or ``ESC *v#W``)
and it selects a colour other than black and white or sends raster data -- PCL colour
raster is not decoded, so this errs towards colour. Without a renderer for PCL this is
a heuristic; the documentation says so.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import MalformedDocument
from analysis.model import PageAnalysis, PageColour
from analysis.paper import MM, paper_size

ESC, FORM_FEED = 0x1B, 0x0C
# ESC <group char 0x21-0x2F> <family char 0x60-0x7E> then value+letter pairs
_PARAMETERISED = re.compile(
    rb"\x1b([!-/])([`-~]?)((?:[+-]?[0-9]*\.?[0-9]*[`-~])*[+-]?[0-9]*\.?[0-9]*[@-^])"
)
_PAIR = re.compile(rb"([+-]?[0-9]*\.?[0-9]*)([`-~@-^])")
PAGE_SIZES: dict[int, tuple[float, float]] = {
    1: (522, 756),
    2: (612, 792),
    3: (612, 1008),
    6: (792, 1224),
    25: (148 * MM, 210 * MM),
    26: (210 * MM, 297 * MM),
    27: (297 * MM, 420 * MM),
}
_UEL = b"\x1b%-12345X"


@dataclass
class _State:
    size: int = 2
    landscape: bool = False
    palette: bool = False
    colour: bool = False
    ink: bool = False


def _number(text: bytes) -> float:
    try:
        return float(text) if text not in (b"", b"+", b"-", b".") else 0.0
    except ValueError:
        return 0.0


def analyse_pcl5_pages(path: Path, shown_as: Path) -> Iterator[PageAnalysis]:
    """Yield the pages a PCL 5 printer would eject for this file."""
    with path.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        state = _State()
        number = 0

        def eject() -> PageAnalysis:
            nonlocal number
            number += 1
            short, long = PAGE_SIZES.get(state.size, PAGE_SIZES[2])
            size = paper_size(long, short) if state.landscape else paper_size(short, long)
            colour = (
                PageColour.COLOUR
                if state.colour
                else PageColour.MONO
                if state.ink
                else PageColour.BLANK
            )
            state.colour = state.ink = False
            return PageAnalysis(number, colour, size)

        pos, end = 0, len(data)
        while pos < end:
            byte = data[pos]
            if byte == FORM_FEED:
                yield eject()
                pos += 1
            elif byte == ESC:
                if data[pos : pos + len(_UEL)] == _UEL:  # PJL lines follow until the next ESC
                    pos += len(_UEL)
                    while pos < end and data[pos] == ord("@"):
                        newline = data.find(b"\n", pos)
                        pos = end if newline < 0 else newline + 1
                    continue
                if data[pos + 1 : pos + 2] == b"E":
                    if state.ink:
                        yield eject()
                    pos += 2
                    continue
                match = _PARAMETERISED.match(data, pos)
                if match is None:
                    pos += 2
                    continue
                pos = match.end()
                group, family = match.group(1), match.group(2)
                for value_text, letter_byte in _PAIR.findall(match.group(3)):
                    value, letter = _number(value_text), letter_byte.upper()
                    if letter == b"W" or (group + family == b"&p" and letter == b"X"):
                        pos += max(0, int(value))
                        if group + family in (b"*b", b"&p"):  # raster row, transparent text
                            state.ink = True
                            state.colour = state.colour or (state.palette and family == b"b")
                        elif group + family == b"*v":  # configure image data: a palette
                            state.palette = True
                    elif group + family == b"&l" and letter == b"A":
                        state.size = int(value)
                    elif group + family == b"&l" and letter == b"O":
                        state.landscape = int(value) in (1, 3)
                    elif group + family == b"&l" and letter == b"H" and value == 0 and state.ink:
                        yield eject()
                    elif group + family == b"*r" and letter == b"U":
                        state.palette = int(value) in (3, -3)
                    elif group + family == b"*v" and letter == b"S" and state.palette:
                        state.colour = state.colour or int(value) not in (0, 7)
                    elif group + family == b"*c" and letter == b"P":
                        state.ink = True
                    elif group == b"%" and letter in (b"A", b"B"):
                        state.ink = state.ink or letter == b"B"  # HP-GL/2 draws
            else:
                if byte > 0x20 and byte != 0x7F:
                    state.ink = True
                pos += 1
        if state.ink:
            yield eject()
        if number == 0:
            raise MalformedDocument(shown_as, "the PCL stream prints no page")
