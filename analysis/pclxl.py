"""PCL XL (PCL 6) streams: pages, media size and colour from the binary token stream.

PCL XL is a flat sequence of typed values, attribute ids and operators, so a tokenizer
(no rendering) finds every ``BeginPage`` and the page's ``MediaSize`` /
``CustomMediaSize`` and ``Orientation``. A page is colour when it sets a non-neutral
``RGBColor``, installs an RGB palette with a non-neutral entry, or paints an image or
raster pattern in an RGB colour space: such images are compressed and we do not decode
them, so an RGB image holding only greys is counted as colour (the one known
over-estimate). A page that paints nothing is blank. The file is memory-mapped and read
token by token, so memory does not grow with its size.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import MalformedDocument
from analysis.model import PageAnalysis, PageColour
from analysis.paper import MM, PaperSize, paper_size
from analysis.raster import is_colour_rgb

# operators
BEGIN_PAGE, END_PAGE = 0x43, 0x44
SET_COLOR_SPACE, SET_BRUSH_SOURCE, SET_PEN_SOURCE = 0x6A, 0x63, 0x79
PAINTING_OPERATORS = frozenset(
    {0x86}  # PaintPath
    | set(range(0x91, 0xA9))  # ArcPath .. Text and the shape operators
    | {0xA8, 0xA9, 0xB1, 0xB4, 0xB9}  # Text, TextPath, ReadImage, ReadRastPattern, ScanLineRel
)
IMAGE_OPERATORS = frozenset({0xB0, 0xB3})  # BeginImage, BeginRastPattern
# attributes
ATTR_COLOR_SPACE, ATTR_PALETTE_DATA, ATTR_RGB_COLOR = 3, 6, 11
ATTR_MEDIA_SIZE, ATTR_ORIENTATION = 37, 40
ATTR_CUSTOM_MEDIA_SIZE, ATTR_CUSTOM_MEDIA_UNITS = 47, 48
RGB_SPACES = frozenset({2, 6})  # eRGB, eSRGB
# MediaSize enumeration -> (short, long) in points
MEDIA_SIZES: dict[int, tuple[float, float]] = {
    0: (612, 792),
    1: (612, 1008),
    2: (210 * MM, 297 * MM),
    3: (522, 756),
    4: (792, 1224),
    5: (297 * MM, 420 * MM),
    16: (148 * MM, 210 * MM),
    17: (105 * MM, 148 * MM),
}
MEDIA_NAMES: dict[bytes, int] = {
    b"LETTER": 0,
    b"LEGAL": 1,
    b"A4": 2,
    b"EXEC": 3,
    b"LEDGER": 4,
    b"A3": 5,
    b"A5": 16,
    b"A6": 17,
}
UNIT_POINTS = {0: 72.0, 1: MM, 2: MM / 10}
_SIZES = {0: 1, 1: 2, 2: 4, 3: 2, 4: 4, 5: 4}
_FORMATS = {0: "B", 1: "H", 2: "I", 3: "h", 4: "i", 5: "f"}
_WHITESPACE = frozenset(b"\x00\t\n\x0b\x0c\r ")
Value = int | float | tuple[int | float, ...] | bytes


@dataclass
class _PageState:
    colour_space: int = 1
    palette_colour: bool = False
    colour: bool = False
    ink: bool = False
    media: int | bytes | None = None
    custom: tuple[float, float] | None = None
    landscape: bool = False
    attributes: dict[int, Value] = field(default_factory=dict)


class _Tokens:
    """Reads values, attribute ids and operators from one PCL XL stream."""

    def __init__(self, data: mmap.mmap | bytes, start: int, little_endian: bool, shown_as: Path):
        self.data, self.pos, self.shown_as = data, start, shown_as
        self.order = "<" if little_endian else ">"

    def _unpack(self, base: int, count: int) -> tuple[int | float, ...]:
        if base not in _SIZES:
            raise MalformedDocument(self.shown_as, f"bad PCL XL value type at offset {self.pos}")
        size = _SIZES[base] * count
        end = self.pos + size
        if end > len(self.data):
            raise MalformedDocument(self.shown_as, "the PCL XL stream is truncated")
        values = struct.unpack(f"{self.order}{count}{_FORMATS[base]}", self.data[self.pos : end])
        self.pos = end
        return values

    def value(self, tag: int) -> Value:
        base = tag - 0xC8 if 0xC8 <= tag <= 0xCD else tag & 0x0F
        if base not in _SIZES:
            raise MalformedDocument(self.shown_as, f"unknown PCL XL data type 0x{tag:02x}")
        group = tag & 0xF0
        if group == 0xC0 and tag < 0xC8:
            return self._unpack(base, 1)[0]
        if group == 0xC0:  # array: a length value then the elements
            length_tag = self.byte()
            length = int(self._unpack(length_tag & 0x0F, 1)[0])
            if base == 0:
                chunk = bytes(self.data[self.pos : self.pos + length])
                self.pos += length
                return chunk
            return self._unpack(base, length)
        return self._unpack(base, 2 if group == 0xD0 else 4)

    def byte(self) -> int:
        """The next byte, or a clear error at the end of the file."""
        if self.pos >= len(self.data):
            raise MalformedDocument(self.shown_as, "the PCL XL stream is truncated")
        self.pos += 1
        return self.data[self.pos - 1]

    def attribute_id(self, tag: int) -> int:
        """The attribute id after an ``attr_ubyte`` (0xF8) or ``attr_uint16`` (0xF9) tag."""
        return self.byte() if tag == 0xF8 else int(self._unpack(1, 1)[0])

    def skip_embedded(self, tag: int) -> None:
        length = int(self._unpack(2, 1)[0]) if tag == 0xFA else self.byte()
        self.pos += length  # after the read above, which itself moves ``pos``


def _page_size(state: _PageState) -> PaperSize:
    if state.custom is not None:
        short, long = state.custom
    else:
        media = state.media
        if isinstance(media, bytes):
            media = MEDIA_NAMES.get(media.rstrip(b"\x00").upper(), 0)
        short, long = MEDIA_SIZES.get(media if isinstance(media, int) else 0, MEDIA_SIZES[0])
    return paper_size(long, short) if state.landscape else paper_size(short, long)


def _operator(op: int, state: _PageState) -> None:
    attributes = state.attributes
    if op == SET_COLOR_SPACE:
        space = attributes.get(ATTR_COLOR_SPACE, state.colour_space)
        state.colour_space = int(space) if isinstance(space, int | float) else 1
        palette = attributes.get(ATTR_PALETTE_DATA)
        state.palette_colour = (
            isinstance(palette, bytes)
            and state.colour_space in RGB_SPACES
            and any(is_colour_rgb(*palette[i : i + 3]) for i in range(0, len(palette) - 2, 3))
        )
    elif op in (SET_BRUSH_SOURCE, SET_PEN_SOURCE):
        rgb = attributes.get(ATTR_RGB_COLOR)
        if (
            isinstance(rgb, bytes | tuple)
            and len(rgb) >= 3
            and is_colour_rgb(int(rgb[0]), int(rgb[1]), int(rgb[2]))
        ):
            state.colour = True
        if state.palette_colour:
            state.colour = True
    elif op in IMAGE_OPERATORS and state.colour_space in RGB_SPACES:
        state.colour = True
    elif op in PAINTING_OPERATORS:
        state.ink = True
    attributes.clear()


def _stream_start(data: mmap.mmap | bytes, from_pos: int) -> tuple[int, bool] | None:
    """Position after the next ``) HP-PCL XL;...`` header line, and its byte order."""
    found = data.find(b" HP-PCL XL;", from_pos)
    if found < 1:
        return None
    end = data.find(b"\n", found)
    return (len(data) if end < 0 else end + 1), data[found - 1] == ord(")")


def analyse_pclxl_pages(path: Path, shown_as: Path) -> Iterator[PageAnalysis]:
    """Yield each page of every PCL XL stream in the file."""
    with path.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        start = _stream_start(data, 0)
        if start is None:
            raise MalformedDocument(shown_as, "no PCL XL stream header found")
        number = 0
        state = _PageState()
        tokens = _Tokens(data, start[0], start[1], shown_as)
        while tokens.pos < len(data):
            tag = data[tokens.pos]
            tokens.pos += 1
            if tag in _WHITESPACE:
                continue
            if tag >= 0xC0 and tag <= 0xEF:
                state.attributes[-1] = tokens.value(tag)
            elif tag in (0xF8, 0xF9):
                attribute = tokens.attribute_id(tag)
                state.attributes[attribute] = state.attributes.pop(-1, 0)
            elif tag in (0xFA, 0xFB):
                tokens.skip_embedded(tag)
            elif tag == BEGIN_PAGE:
                media = state.attributes.get(ATTR_MEDIA_SIZE)
                custom = state.attributes.get(ATTR_CUSTOM_MEDIA_SIZE)
                units = state.attributes.get(ATTR_CUSTOM_MEDIA_UNITS, 0)
                orientation = state.attributes.get(ATTR_ORIENTATION, 0)
                state = _PageState(colour_space=state.colour_space)
                state.media = media if isinstance(media, int | bytes) else None
                if isinstance(custom, tuple) and len(custom) == 2:
                    scale = UNIT_POINTS.get(int(units) if isinstance(units, int) else 0, 72.0)
                    state.custom = (min(custom) * scale, max(custom) * scale)
                state.landscape = orientation in (1, 3)
            elif tag == END_PAGE:
                number += 1
                colour = (
                    PageColour.COLOUR
                    if state.colour
                    else PageColour.MONO
                    if state.ink
                    else PageColour.BLANK
                )
                yield PageAnalysis(number, colour, _page_size(state))
                state.attributes.clear()
            elif 0x41 <= tag <= 0xBF:
                _operator(tag, state)
            elif tag == 0x1B:  # UEL: this stream ended; another may follow after PJL
                following = _stream_start(data, tokens.pos)
                if following is None:
                    break
                tokens.pos, little = following
                tokens.order = "<" if little else ">"
            else:
                raise MalformedDocument(
                    shown_as, f"unexpected byte 0x{tag:02x} at offset {tokens.pos - 1} in PCL XL"
                )
        if number == 0:
            raise MalformedDocument(shown_as, "the PCL XL stream has no pages")
