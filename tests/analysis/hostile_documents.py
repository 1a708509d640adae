"""Hostile PDFs built in the test, whose truth is known by construction.

Each one attacks a limit: Form XObjects nested past PDFium's parsing depth, a page with
more objects than the walk examines, a ~1.5 MB Flate stream that inflates to ~1.5 GB, and
200 000 pages sharing one content stream (a 20 MB file that takes minutes to analyse).
"""

from __future__ import annotations

import zlib
from pathlib import Path

from pdf_writer import Page, PdfWriter

RED_FILL = "1 0 0 rg 72 72 400 400 re f"
GREY_FILL = "0.4 g 72 72 400 400 re f"


def nested_forms(path: Path, depth: int, paint: str = RED_FILL) -> Path:
    """One page whose only mark, ``paint``, sits at the bottom of ``depth`` nested forms."""
    writer = PdfWriter()
    form = "/Type /XObject /Subtype /Form /BBox [0 0 595 842]"
    inner = writer.add_stream(form, paint.encode())
    for _ in range(depth - 1):
        inner = writer.add_stream(f"{form} /Resources << /XObject << /X {inner} >> >>", b"/X Do")
    writer.add_page(Page("/X Do", resources={"XObject": {"X": inner}}))
    writer.write(path)
    return path


def wide_page(path: Path, paths_per_form: int, uses: int, last: str) -> Path:
    """A form of ``paths_per_form`` small grey squares painted ``uses`` times, then ``last``."""
    writer = PdfWriter()
    squares = " ".join(f"{(i % 50) * 10} {(i // 50) * 10 % 800} 5 5 re f"
                       for i in range(paths_per_form))
    form = writer.add_stream("/Type /XObject /Subtype /Form /BBox [0 0 595 842]",
                             f"0.5 g {squares}".encode(), compress=True)
    content = " ".join(["/X Do"] * uses) + f" {last}"
    writer.add_page(Page(content, resources={"XObject": {"X": form}}), compress=True)
    writer.write(path)
    return path


def flate_bomb(path: Path, inflated_mib: int = 1500, paint: str = RED_FILL) -> Path:
    """A page whose content stream is ``inflated_mib`` MiB of NULs (PDF whitespace) and then
    ``paint``, Flate-compressed to about a thousandth of that.

    Built in about a second rather than compressing 1.5 GB: after a full flush, deflate
    encodes every MiB of zeros as the same bytes, so one encoded MiB is repeated; the
    zlib header and Adler-32 trailer around the raw deflate data are written by hand.
    """
    zeros = bytes(1024**2)
    tail = f"\n{paint}\n".encode()
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = raw.compress(zeros) + raw.flush(zlib.Z_FULL_FLUSH)
    again = raw.compress(zeros) + raw.flush(zlib.Z_FULL_FLUSH)
    end = raw.compress(tail) + raw.flush()
    checksum = 1
    for _ in range(inflated_mib):
        checksum = zlib.adler32(zeros, checksum)
    checksum = zlib.adler32(tail, checksum)
    data = (b"\x78\xda" + first + again * (inflated_mib - 1) + end
            + checksum.to_bytes(4, "big"))
    writer = PdfWriter()
    bomb = writer.add_stream("/Filter /FlateDecode", data)
    writer.add_page(Page("", contents=bomb))
    writer.write(path)
    return path


def many_pages(path: Path, count: int, paint: str = GREY_FILL) -> Path:
    """``count`` A4 pages, every one painting ``paint`` from one shared content stream.

    Written directly rather than through PdfWriter: 200 000 page objects in under a second.
    """
    out = bytearray(b"%PDF-1.7\n")
    offsets: list[int] = []

    def add(body: bytes) -> None:
        offsets.append(len(out))
        out.extend(b"%d 0 obj\n%s\nendobj\n" % (len(offsets), body))

    content = paint.encode()
    add(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(count))
    add(b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 595 842] /Resources << >> >>"
        % (kids, count))
    add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    page = b"<< /Type /Page /Parent 2 0 R /Contents 3 0 R >>"
    for _ in range(count):
        add(page)
    xref = len(out)
    out.extend(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    out.extend(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.extend(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
               % (len(offsets) + 1, xref))
    path.write_bytes(bytes(out))
    return path


def xps_with_a_huge_page(path: Path, inflated_mib: int = 300) -> Path:
    """An XPS package whose one FixedPage part inflates to ``inflated_mib`` MiB of spaces.

    Reading the part is one Python allocation of that size: under the worker's memory
    limit it raises MemoryError in Python (not in C), the other way a limit is hit.
    """
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        package.writestr("_rels/.rels", '<Relationships><Relationship Target="/seq.fdseq" '
                         'Type="http://schemas.microsoft.com/xps/2005/06/fixedrepresentation"/>'
                         "</Relationships>")
        package.writestr("seq.fdseq", '<FixedDocumentSequence><DocumentReference '
                         'Source="/doc.fdoc"/></FixedDocumentSequence>')
        package.writestr("doc.fdoc", '<FixedDocument><PageContent Source="/1.fpage"/>'
                         "</FixedDocument>")
        with package.open("1.fpage", "w", force_zip64=True) as page:
            page.write(b'<FixedPage Width="793.76" Height="1122.56"><Path Fill="#FF0000" '
                       b'Data="M 10,10 L 400,10 400,400 Z"/>')
            spaces = b" " * 1024**2
            for _ in range(inflated_mib):
                page.write(spaces)
            page.write(b"</FixedPage>")
    return path
