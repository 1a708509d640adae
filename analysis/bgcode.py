"""Prusa binary G-code (.bgcode), read from its public specification.

libbgcode's doc/specifications.md: a 10-byte file header (``GCDE``, version 1, checksum
type 0 none / 1 CRC32), then blocks, each a header (type, compression, uncompressed size
and, when compressed, compressed size), parameters (2 bytes; a thumbnail's are 6), data
and a CRC32 of all three. Compression: 0 none, 1 Deflate (zlib), 2/3 Heatshrink with
window 11/12 and lookahead 4. G-code blocks are encoded: 0 plain, 1 MeatPack, 2 MeatPack
keeping comment lines. Metadata blocks (file, printer, print, slicer) are INI text.

Decoding is streamed block by block into a text file, so memory is bounded by one block
(the specification's blocks are 64 KiB); every CRC is verified before a block is used,
and a damaged or truncated file raises :class:`GcodeError` naming the 0-based block.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from analysis.gcode_model import GcodeAnalysis, GcodeError
from analysis.gcode_slicers import Header, parse_header

MAGIC = b"GCDE"
FILE_METADATA, GCODE, SLICER_METADATA, PRINTER_METADATA, PRINT_METADATA, THUMBNAIL = range(6)
_BLOCK_NAMES = {FILE_METADATA: "file metadata", GCODE: "G-code", SLICER_METADATA: "slicer metadata",
                PRINTER_METADATA: "printer metadata", PRINT_METADATA: "print metadata",
                THUMBNAIL: "thumbnail"}
MAX_BLOCK = 64 * 1024 * 1024  # far above the 64 KiB libbgcode writes; a larger size is damage


def is_bgcode(path: Path) -> bool:
    """True when the file starts with the bgcode magic (the name does not matter)."""
    try:
        with Path(path).open("rb") as handle:
            return handle.read(4) == MAGIC
    except OSError:
        return False


@dataclass(frozen=True)
class Block:
    index: int
    kind: int
    parameters: bytes
    data: bytes   # decompressed


def _read_exact(handle: BinaryIO, size: int, path: Path, index: int, what: str) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise GcodeError(path, f"the file is truncated in the {what}", block=index)
    return data


def iter_blocks(path: Path, handle: BinaryIO) -> Iterator[Block]:
    """Every block, CRC-checked and decompressed, in file order."""
    header = handle.read(10)
    if len(header) < 10 or header[:4] != MAGIC:
        raise GcodeError(path, "not a binary G-code file (no GCDE header)")
    version, checksum = struct.unpack("<IH", header[4:])
    if version != 1:
        raise GcodeError(path, f"binary G-code version {version} is not supported (only 1)")
    if checksum not in (0, 1):
        raise GcodeError(path, f"unknown checksum type {checksum}")
    index = 0
    while True:
        first = handle.read(8)
        if not first:
            return
        if len(first) < 8:
            raise GcodeError(path, "the file is truncated in a block header", block=index)
        kind, compression, size = struct.unpack("<HHI", first)
        if kind not in _BLOCK_NAMES:
            raise GcodeError(path, f"unknown block type {kind}", block=index)
        if compression > 3:
            raise GcodeError(path, f"unknown compression {compression}", block=index)
        raw_header = first
        stored = size
        if compression:
            extra = _read_exact(handle, 4, path, index, "block header")
            raw_header += extra
            (stored,) = struct.unpack("<I", extra)
        if size > MAX_BLOCK or stored > MAX_BLOCK:
            raise GcodeError(path, "a block claims an impossible size", block=index)
        parameters = _read_exact(handle, 6 if kind == THUMBNAIL else 2, path, index,
                                 "block parameters")
        payload = _read_exact(handle, stored, path, index, f"{_BLOCK_NAMES[kind]} data")
        if checksum == 1:
            (crc,) = struct.unpack("<I", _read_exact(handle, 4, path, index, "block checksum"))
            if zlib.crc32(payload, zlib.crc32(parameters, zlib.crc32(raw_header))) != crc:
                raise GcodeError(path, f"CRC32 mismatch in the {_BLOCK_NAMES[kind]} block "
                                       "(the file is damaged)", block=index)
        yield Block(index, kind, parameters, _decompress(path, index, compression, payload, size))
        index += 1


def _decompress(path: Path, index: int, compression: int, payload: bytes, size: int) -> bytes:
    if compression == 0:
        return payload
    if compression == 1:
        try:
            data = zlib.decompress(payload)
        except zlib.error as exc:
            raise GcodeError(path, f"Deflate data is damaged ({exc})", block=index) from exc
    else:
        decoded = heatshrink_decode(payload, 11 if compression == 2 else 12, 4, size)
        if decoded is None:
            raise GcodeError(path, "Heatshrink data is damaged", block=index)
        data = decoded
    if len(data) != size:
        raise GcodeError(path, f"the block decompresses to {len(data)} bytes, not {size}",
                         block=index)
    return data


_BITS = tuple(format(value, "08b") for value in range(256))


def heatshrink_decode(data: bytes, window: int, lookahead: int, size: int) -> bytes | None:
    """Heatshrink (LZSS) decoding: a 1 bit then 8 bits is a literal; a 0 bit then
    ``window`` bits (offset - 1) and ``lookahead`` bits (count - 1) copies from the output
    already written. Bits are read most significant first; the stream stops at ``size``
    bytes (the rest is padding). None when the stream is not valid Heatshrink."""
    bits = "".join(map(_BITS.__getitem__, data))
    end = len(bits)
    out = bytearray()
    pos = 0
    backref = 1 + window + lookahead
    while len(out) < size:
        if pos >= end:
            return None
        if bits[pos] == "1":
            if pos + 9 > end:
                return None
            out.append(int(bits[pos + 1:pos + 9], 2))
            pos += 9
            continue
        if pos + backref > end:
            return None
        offset = int(bits[pos + 1:pos + 1 + window], 2) + 1
        count = int(bits[pos + 1 + window:pos + backref], 2) + 1
        pos += backref
        start = len(out) - offset
        if start < 0:
            return None
        if count <= offset:
            out += out[start:start + count]
        else:  # an overlapping copy repeats the last ``offset`` bytes
            for i in range(count):
                out.append(out[start + i])
    return bytes(out[:size])


_MEATPACK = b"0123456789. \nGX"
_SIGNAL = 0xFF
_ENABLE, _DISABLE, _RESET, _NO_SPACES, _SPACES = 251, 250, 249, 247, 246
_G_PARAMETERS = frozenset(b"XYZEFIJRGPWHCA")


def meatpack_decode(data: bytes) -> bytes:
    """MeatPack: two 4-bit codes a byte (low nibble first) from the 15 commonest G-code
    characters; code 15 means a full byte follows. 0xFF 0xFF <cmd> switches packing and
    the "no spaces" mode (code 11 is then 'E', and spaces are put back before the
    parameters of G lines, as libbgcode's reader does). Empty lines are dropped."""
    raw = bytearray()
    packing = no_spaces = False
    signal = 0
    command = False
    queue = 0
    held = 0
    for byte in data:
        if byte == _SIGNAL:
            if signal:
                command, signal = True, 0
            else:
                signal = 1
            continue
        if command:
            command = False
            if byte == _ENABLE:
                packing = True
            elif byte in (_DISABLE, _RESET):
                packing = False
            elif byte == _NO_SPACES:
                no_spaces = True
            elif byte == _SPACES:
                no_spaces = False
            continue
        pending = [_SIGNAL, byte] if signal else [byte]
        signal = 0
        for value in pending:
            if not packing:
                raw.append(value)
            elif queue:
                raw.append(value)
                if held:
                    raw.append(held)
                    held = 0
                queue -= 1
            else:
                low, high = value & 0xF, value >> 4
                if low == 0xF:
                    queue += 1
                    if high == 0xF:
                        queue += 1
                    else:
                        held = _code(high, no_spaces)
                else:
                    first = _code(low, no_spaces)
                    raw.append(first)
                    if first != 0x0A:
                        if high == 0xF:
                            queue += 1
                        else:
                            raw.append(_code(high, no_spaces))
    return _respace(bytes(raw))


def _code(nibble: int, no_spaces: bool) -> int:
    return ord("E") if (nibble == 11 and no_spaces) else _MEATPACK[nibble]


def _respace(text: bytes) -> bytes:
    """Spaces before each parameter of a G line (MeatPack's no-spaces mode removed them);
    consecutive newlines collapse."""
    out = bytearray()
    in_g_line = False
    for byte in text:
        if byte == 0x47 and (not out or out[-1] == 0x0A):  # G at a line start
            in_g_line = True
        elif byte == 0x0A:
            in_g_line = False
            if out and out[-1] == 0x0A:
                continue
        elif in_g_line and byte in _G_PARAMETERS and out and out[-1] != 0x20:
            out.append(0x20)
        out.append(byte)
    return bytes(out)


def _ini(data: bytes) -> list[tuple[str, str]]:
    pairs = []
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            pairs.append((key.strip(), value.strip()))
    return pairs


def _gcode_text(block: Block, path: Path) -> bytes:
    (encoding,) = struct.unpack("<H", block.parameters)
    if encoding == 0:
        return block.data
    if encoding in (1, 2):
        return meatpack_decode(block.data)
    raise GcodeError(path, f"unknown G-code encoding {encoding}", block=block.index)


def decode_to(path: Path, handle: BinaryIO, out: BinaryIO) -> Header:
    """Write the text G-code of an open .bgcode file; the slicer figures of its metadata."""
    comments: list[str] = []
    for block in iter_blocks(path, handle):
        if block.kind == GCODE:
            text = _gcode_text(block, path)
            out.write(text)
            if text and not text.endswith(b"\n"):
                out.write(b"\n")
            continue
        if block.kind == THUMBNAIL:
            continue
        pairs = _ini(block.data)
        lines = [f"{key} = {value}" for key, value in pairs]
        if block.kind == FILE_METADATA:
            # The text file names its slicer as the slicer's own text G-code does, so that
            # analysing the decoded file (what the backend stores and the printer gets)
            # knows the slicer, and so how it counts its figures, as reading the bgcode does.
            lines = [f"generated by {value}" for key, value in pairs if key == "Producer"] + lines
        comments += lines
        if block.kind == SLICER_METADATA:
            out.write(b"; prusaslicer_config = begin\n")
        out.write("".join(f"; {line}\n" for line in lines).encode())
        if block.kind == SLICER_METADATA:
            out.write(b"; prusaslicer_config = end\n")
    return parse_header(comments)


def decode_bgcode(path: Path, destination: Path) -> Path:
    """Write the text G-code of a .bgcode file (verifying every block's CRC)."""
    path, destination = Path(path), Path(destination)
    try:
        with path.open("rb") as handle, destination.open("wb") as out:
            decode_to(path, handle, out)
    except OSError as exc:
        raise GcodeError(path, f"cannot read or write: {exc.strerror or exc}") from exc
    return destination


def analyse_bgcode(path: Path, *, diameter_mm: Decimal | None = None,
                   density_g_cm3: Decimal | None = None,
                   estimate_time: bool | None = None) -> GcodeAnalysis:
    """Decode to a temporary text file, then analyse it with the metadata's figures.

    The checkpoints' offsets are in the decoded text: the file the printer is sent."""
    from analysis.gcode import analyse_text

    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="bgcode-") as tmp:
        text = Path(tmp) / "decoded.gcode"
        try:
            with path.open("rb") as handle, text.open("wb") as out:
                header = decode_to(path, handle, out)
            size = path.stat().st_size
        except OSError as exc:
            raise GcodeError(path, f"cannot read the file: {exc.strerror or exc}") from exc
        try:
            result = analyse_text(text, diameter_mm=diameter_mm, density_g_cm3=density_g_cm3,
                                  header=header, file_format="bgcode", size_bytes=size,
                                  estimate_time=estimate_time)
        except GcodeError as exc:
            raise GcodeError(path, f"{exc.reason} (in the decoded text)", line=exc.line) from exc
    return replace(result, path=path)
