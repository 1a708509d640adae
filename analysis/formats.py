"""Recognising a print file's language from its first bytes, not from its name.

Spool files have no meaningful extension (CUPS names them d00042-001), and print
drivers wrap PostScript, PCL and PCL XL in a PJL header, so the sniffer skips PJL and
reads the language the header announces or the one the payload starts with.
"""

from __future__ import annotations

import enum
import re
from pathlib import Path

from analysis.errors import DocumentAnalysisError, UnsupportedDocument

HEAD_BYTES = 8192
_UEL = b"\x1b%-12345X"
_ENTER_LANGUAGE = re.compile(rb"@PJL\s+ENTER\s+LANGUAGE\s*=\s*([A-Za-z0-9]+)", re.IGNORECASE)


class DocumentFormat(enum.Enum):
    """The languages analysis understands, gzip around them, and PWG raster (refused)."""

    PDF = "pdf"
    POSTSCRIPT = "postscript"
    EPS = "eps"
    GZIP = "gzip"
    PCL_XL = "pcl-xl"
    PCL5 = "pcl5"
    XPS = "xps"
    PWG_RASTER = "pwg-raster"


def skip_pjl(head: bytes) -> tuple[bytes, str]:
    """Strip a PJL job header; return the payload start and the announced language."""
    language = ""
    data = head
    while data.startswith(_UEL) or data.startswith(b"@PJL"):
        if data.startswith(_UEL):
            data = data[len(_UEL) :]
            continue
        end = data.find(b"\n")
        line = data if end < 0 else data[: end + 1]
        match = _ENTER_LANGUAGE.search(line)
        if match:
            language = match.group(1).decode("ascii").upper()
        data = data[len(line) :]
        if end < 0:
            break
    return data.lstrip(b"\r\n"), language


def sniff(head: bytes, name: Path | str) -> DocumentFormat:
    """The format of a file starting with ``head``; ``name`` is only used in errors."""
    if head.startswith(b"\x1f\x8b"):
        return DocumentFormat.GZIP
    if head.startswith(b"PK\x03\x04"):
        return DocumentFormat.XPS
    if head.startswith((b"RaS2", b"RaS3")):
        return DocumentFormat.PWG_RASTER
    if head.startswith(b"\xc5\xd0\xd3\xc6"):  # DOS EPS binary header
        return DocumentFormat.EPS
    if b"%PDF-" in head[:1024]:
        return DocumentFormat.PDF
    payload, language = skip_pjl(head)
    if payload.startswith(b"%!"):
        first_line = payload.split(b"\n", 1)[0]
        return DocumentFormat.EPS if b"EPSF" in first_line else DocumentFormat.POSTSCRIPT
    if payload[:1] in (b")", b"(", b"'") and payload[1:12] == b" HP-PCL XL;":
        return DocumentFormat.PCL_XL
    if language in ("PCLXL", "PCL6"):
        return DocumentFormat.PCL_XL
    if language == "POSTSCRIPT":
        return DocumentFormat.POSTSCRIPT
    if language == "PCL" or payload.startswith(b"\x1bE") or payload[:1] == b"\x1b":
        return DocumentFormat.PCL5
    if language == "PDF":
        return DocumentFormat.PDF
    raise UnsupportedDocument(name, "the file is not PDF, PostScript, PCL, PCL XL or XPS")


def read_head(path: Path, shown_as: Path | None = None) -> bytes:
    """The first bytes of ``path``, with an unreadable file turned into our error."""
    try:
        with path.open("rb") as stream:
            return stream.read(HEAD_BYTES)
    except OSError as exc:
        raise DocumentAnalysisError(
            shown_as or path, f"the file cannot be read ({exc.strerror})"
        ) from exc
