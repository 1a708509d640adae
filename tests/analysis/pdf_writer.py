"""A minimal PDF writer for test documents whose truth is known by construction.

Why by hand: the analysis must be judged on exactly the constructs printers meet
(Separation and DeviceN spot colours, soft masks, RGB images holding only greys,
invisible text), and a hand-written file contains exactly those and nothing a
generator library might add on its own. Streams are written uncompressed unless
asked, so a failing test's document can be read in a text editor.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


@dataclass
class Page:
    """One page: its box in points, content operators and named resources."""

    content: str
    width: float = 595.0
    height: float = 842.0
    rotate: int = 0
    # resource category ("XObject", "ExtGState", "ColorSpace", "Shading", "Font") ->
    # name -> object text or a reference produced by PdfWriter.add()
    resources: dict[str, dict[str, str]] = field(default_factory=dict)
    annots: list[str] = field(default_factory=list)
    # a content stream already added (PdfWriter.add_stream), used instead of ``content``
    contents: str | None = None


class PdfWriter:
    """Collects indirect objects and writes a classic xref-table PDF."""

    def __init__(self) -> None:
        self._objects: list[bytes] = []
        self._pages: list[int] = []
        self._pages_ref = self._reserve()
        self.helvetica = self.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")

    def _reserve(self) -> int:
        self._objects.append(b"")
        return len(self._objects)

    def add(self, text: str) -> str:
        """Add a non-stream object; return its reference ("n 0 R")."""
        self._objects.append(text.encode("latin-1"))
        return f"{len(self._objects)} 0 R"

    def add_stream(self, dictionary: str, data: bytes, *, compress: bool = False) -> str:
        """Add a stream object with the given dictionary entries (without << >>)."""
        if compress:
            data = zlib.compress(data)
            dictionary += " /Filter /FlateDecode"
        head = f"<< {dictionary} /Length {len(data)} >>\nstream\n".encode("latin-1")
        self._objects.append(head + data + b"\nendstream")
        return f"{len(self._objects)} 0 R"

    def add_image(
        self, width: int, height: int, colour_space: str, pixels: bytes, extra: str = ""
    ) -> str:
        """An 8-bit image XObject; ``pixels`` are the raw samples row by row."""
        return self.add_stream(
            f"/Type /XObject /Subtype /Image /Width {width} /Height {height} "
            f"/ColorSpace {colour_space} /BitsPerComponent 8 {extra}",
            pixels,
            compress=True,
        )

    def add_page(self, page: Page, *, compress: bool = False) -> None:
        resources = dict(page.resources)
        fonts = dict(resources.get("Font", {}))
        fonts.setdefault("F1", self.helvetica)
        resources["Font"] = fonts
        res_text = " ".join(
            f"/{category} << " + " ".join(f"/{name} {ref}" for name, ref in entries.items()) + " >>"
            for category, entries in resources.items()
        )
        contents = page.contents or self.add_stream(
            "", page.content.encode("latin-1"), compress=compress
        )
        annots = f"/Annots [{' '.join(page.annots)}]" if page.annots else ""
        rotate = f"/Rotate {page.rotate}" if page.rotate else ""
        ref = self.add(
            f"<< /Type /Page /Parent {self._pages_ref} 0 R /MediaBox [0 0 {page.width:g} "
            f"{page.height:g}] /Resources << {res_text} >> /Contents {contents} {annots} "
            f"{rotate} >>"
        )
        self._pages.append(int(ref.split()[0]))

    def write(self, target: Path | BinaryIO) -> None:
        kids = " ".join(f"{n} 0 R" for n in self._pages)
        self._objects[self._pages_ref - 1] = (
            f"<< /Type /Pages /Kids [{kids}] /Count {len(self._pages)} >>".encode("latin-1")
        )
        catalog = self.add(f"<< /Type /Catalog /Pages {self._pages_ref} 0 R >>")
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self._objects, start=1):
            offsets.append(len(out))
            out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(self._objects) + 1}\n0000000000 65535 f \n".encode()
        for offset in offsets:
            out += f"{offset:010d} 00000 n \n".encode()
        out += (
            f"trailer\n<< /Size {len(self._objects) + 1} /Root {catalog} >>\n"
            f"startxref\n{xref}\n%%EOF\n"
        ).encode()
        if isinstance(target, Path):
            target.write_bytes(bytes(out))
        else:
            target.write(bytes(out))
