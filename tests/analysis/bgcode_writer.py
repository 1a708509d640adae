"""A small bgcode writer for the tests: blocks with any compression and encoding, so the
reader is exercised on what the corpus file does not use (Heatshrink 11,4, Deflate, no
compression, plain MeatPack). Written from the specification, independently of the
reader; the corpus file (libbgcode's own writer) checks them against the real thing."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

_CODES = {c: i for i, c in enumerate(b"0123456789. \nGX")}


def heatshrink_encode(data: bytes, window: int, lookahead: int) -> bytes:
    """Greedy LZSS in Heatshrink's bit format (slow and simple: test files are small)."""
    bits: list[str] = []
    max_offset, max_count = 1 << window, 1 << lookahead
    pos = 0
    while pos < len(data):
        best_len = best_off = 0
        start = max(0, pos - max_offset)
        for length in range(min(max_count, len(data) - pos), 1, -1):
            found = data.rfind(data[pos:pos + length], start, pos + length - 1)
            if found >= 0 and found < pos:
                best_len, best_off = length, pos - found
                break
        if best_len >= 2:
            bits.append("0" + format(best_off - 1, f"0{window}b")
                        + format(best_len - 1, f"0{lookahead}b"))
            pos += best_len
        else:
            bits.append("1" + format(data[pos], "08b"))
            pos += 1
    stream = "".join(bits)
    stream += "0" * (-len(stream) % 8)
    return bytes(int(stream[i:i + 8], 2) for i in range(0, len(stream), 8))


def meatpack_encode(text: bytes) -> bytes:
    """MeatPack with no spaces, comments dropped (encoding 1), as libbgcode writes it."""
    out = bytearray(b"\xff\xff\xfb\xff\xff\xf7")  # enable packing, enable no-spaces
    codes = dict(_CODES)
    del codes[ord(" ")]
    codes[ord("E")] = 11
    for raw in text.split(b"\n"):
        line = raw.split(b";", 1)[0].strip()
        if not line:
            continue
        if line.startswith(b"G"):
            line = line.replace(b" ", b"")
        line += b"\n"
        for i in range(0, len(line), 2):
            a = line[i]
            b = line[i + 1] if i + 1 < len(line) else ord("\n")
            pa, pb = a in codes, b in codes
            if pa and pb:
                out.append(codes[a] | codes[b] << 4)
            elif pa:
                out += bytes([codes[a] | 0xF0, b])
            elif pb:
                out += bytes([0x0F | codes[b] << 4, a])
            else:
                out += bytes([0xFF, a, b])
    return bytes(out)


def block(kind: int, data: bytes, *, compression: int = 0, parameters: bytes = b"\x00\x00",
          checksum: bool = True) -> bytes:
    if compression == 0:
        stored, header = data, struct.pack("<HHI", kind, 0, len(data))
    else:
        if compression == 1:
            stored = zlib.compress(data)
        else:
            stored = heatshrink_encode(data, 11 if compression == 2 else 12, 4)
        header = struct.pack("<HHII", kind, compression, len(data), len(stored))
    body = header + parameters + stored
    return body + (struct.pack("<I", zlib.crc32(body)) if checksum else b"")


def write_bgcode(path: Path, blocks: list[bytes], *, checksum: bool = True) -> Path:
    path.write_bytes(b"GCDE" + struct.pack("<IH", 1, 1 if checksum else 0) + b"".join(blocks))
    return path
