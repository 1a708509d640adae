"""The print language is recognised from the bytes, through PJL headers, whatever the name."""

from __future__ import annotations

import pytest

from analysis.errors import UnsupportedDocument
from analysis.formats import DocumentFormat, sniff

UEL = b"\x1b%-12345X"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", DocumentFormat.PDF),
        (b"\r\n\r\ngarbage before the header %PDF-1.4\n", DocumentFormat.PDF),
        (b"%!PS-Adobe-3.0\n", DocumentFormat.POSTSCRIPT),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n", DocumentFormat.EPS),
        (b"\xc5\xd0\xd3\xc6" + bytes(28), DocumentFormat.EPS),
        (
            UEL + b"@PJL JOB\r\n@PJL ENTER LANGUAGE = POSTSCRIPT\r\n%!PS\n",
            DocumentFormat.POSTSCRIPT,
        ),
        (UEL + b"@PJL ENTER LANGUAGE=PCLXL\r\n) HP-PCL XL;2;0\r\n", DocumentFormat.PCL_XL),
        (b"( HP-PCL XL;2;0\n", DocumentFormat.PCL_XL),
        (UEL + b"@PJL ENTER LANGUAGE=PCL\r\n\x1bE", DocumentFormat.PCL5),
        (b"\x1bE\x1b&l26A", DocumentFormat.PCL5),
        (b"\x1f\x8b\x08\x00", DocumentFormat.GZIP),
        (b"PK\x03\x04", DocumentFormat.XPS),
        (b"RaS2PwgRaster", DocumentFormat.PWG_RASTER),
    ],
)
def test_sniff(head: bytes, expected: DocumentFormat) -> None:
    assert sniff(head, "job") is expected


def test_unknown_language_names_the_file() -> None:
    with pytest.raises(UnsupportedDocument) as caught:
        sniff(b"GIF89a", "spool/d00042-001")
    assert str(caught.value).startswith("spool/d00042-001: ")
