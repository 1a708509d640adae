"""The generated suite: small documents, one construct each, with the truth per page.

Each case isolates one thing a printer's colour decision depends on, including the two
inkcov gets wrong (RGB images that hold only greys; tiny colour text). The truth is known
by construction: colour when something visible is painted in a non-neutral colour, mono
when only neutral ink is visible, blank when nothing visible is painted.
"""

from __future__ import annotations

import gzip
import io
import struct
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pdf_writer import Page, PdfWriter
from PIL import Image

COLOUR, MONO, BLANK = "colour", "mono", "blank"
A4 = (595.0, 842.0)
BODY = "BT /F1 11 Tf 0 g 72 760 Td (Plain black body text, as in most printed pages.) Tj ET\n"
LOW_BODY = BODY.replace(" 760 ", " 300 ")  # for pages less than 760 pt high


@dataclass(frozen=True)
class Case:
    """A generated file and its truth: per page (colour class, paper size name)."""

    name: str
    path: Path
    truth: tuple[tuple[str, str], ...]


def _gradient(width: int, height: int, grey: bool) -> bytes:
    out = bytearray()
    for y in range(height):
        for x in range(width):
            if grey:
                level = (x * 255 // (width - 1) + y) % 256
                out += bytes((level, level, level))
            else:
                out += bytes((x * 255 // (width - 1), y * 255 // (height - 1), 128))
    return bytes(out)


def _one_page(content: str, **page: object) -> Callable[[PdfWriter], None]:
    def build(writer: PdfWriter) -> None:
        writer.add_page(Page(content, **page))  # type: ignore[arg-type]

    return build


def _image_page(colour_space: str, pixels: bytes, size: int = 64) -> Callable[[PdfWriter], None]:
    def build(writer: PdfWriter) -> None:
        image = writer.add_image(size, size, colour_space, pixels)
        writer.add_page(
            Page(BODY + "q 300 0 0 300 140 300 cm /Im1 Do Q", resources={"XObject": {"Im1": image}})
        )

    return build


def _small_image_page(grey: bool) -> Callable[[PdfWriter], None]:
    """A logo 8 pt wide: about two pixels of a 20 dpi rendering."""

    def build(writer: PdfWriter) -> None:
        image = writer.add_image(16, 16, "/DeviceRGB", _checker(16, grey=grey))
        writer.add_page(
            Page(BODY + "q 8 0 0 8 500 100 cm /Im1 Do Q", resources={"XObject": {"Im1": image}})
        )

    return build


def _checker(size: int, grey: bool) -> bytes:
    """A fine check of two colours that average to a near-grey (or of two greys)."""
    first, second = ((60, 60, 60), (200, 200, 200)) if grey else ((255, 40, 40), (40, 255, 255))
    return b"".join(
        bytes(first if (x + y) % 2 else second) for y in range(size) for x in range(size)
    )


def _jpeg_page(grey: bool) -> Callable[[PdfWriter], None]:
    """A photo-like RGB JPEG: the common way greys arrive in RGB (scans, phone photos)."""

    def build(writer: PdfWriter) -> None:
        photo = Image.frombytes("RGB", (64, 64), _gradient(64, 64, grey=grey)).resize((256, 256))
        encoded = io.BytesIO()
        photo.save(encoded, "JPEG", quality=85)
        image = writer.add_stream(
            "/Type /XObject /Subtype /Image /Width 256 /Height 256 /ColorSpace /DeviceRGB "
            "/BitsPerComponent 8 /Filter /DCTDecode",
            encoded.getvalue(),
        )
        writer.add_page(
            Page(BODY + "q 300 0 0 300 140 300 cm /Im1 Do Q", resources={"XObject": {"Im1": image}})
        )

    return build


def _pattern_page(pattern: str, content: str) -> Callable[[PdfWriter], None]:
    def build(writer: PdfWriter) -> None:
        if pattern.startswith("shading:"):
            function = writer.add(
                f"<< /FunctionType 2 /Domain [0 1] /C0 [{pattern[8:]}] /C1 [0 0 1] /N 1 >>"
            )
            shading = writer.add(
                "<< /ShadingType 2 /ColorSpace /DeviceRGB /Coords [100 0 500 0] "
                f"/Function {function} >>"
            )
            ref = writer.add(f"<< /Type /Pattern /PatternType 2 /Shading {shading} >>")
        else:
            paint_type, cell = pattern.split(":", 1)
            ref = writer.add_stream(
                f"/Type /Pattern /PatternType 1 /PaintType {paint_type} /TilingType 1 "
                "/BBox [0 0 10 10] /XStep 10 /YStep 10 /Resources << >>",
                cell.encode(),
            )
        resources = {"Pattern": {"P1": ref}, "ColorSpace": {"PatRGB": "[/Pattern /DeviceRGB]"}}
        writer.add_page(Page(BODY + content, resources=resources))

    return build


def _separation(name: str, alternate: str, c0: str, c1: str) -> Callable[[PdfWriter], None]:
    def build(writer: PdfWriter) -> None:
        tint = writer.add(f"<< /FunctionType 2 /Domain [0 1] /C0 [{c0}] /C1 [{c1}] /N 1 >>")
        space = writer.add(f"[/Separation /{name} /{alternate} {tint}]")
        writer.add_page(
            Page(
                BODY + "/CS1 cs 1 scn 100 300 300 200 re f",
                resources={"ColorSpace": {"CS1": space}},
            )
        )

    return build


def _devicen(writer: PdfWriter) -> None:
    tint = writer.add_stream(
        "/FunctionType 4 /Domain [0 1 0 1] /Range [0 1 0 1 0 1 0 1]", b"{ 0 0 }"
    )
    space = writer.add(f"[/DeviceN [/Cyan /Magenta] /DeviceCMYK {tint}]")
    writer.add_page(
        Page(
            BODY + "/CS1 cs 1 0.2 scn 100 300 300 200 re f",
            resources={"ColorSpace": {"CS1": space}},
        )
    )


def _shading(writer: PdfWriter, colour_space: str, c0: str, c1: str) -> None:
    function = writer.add(f"<< /FunctionType 2 /Domain [0 1] /C0 [{c0}] /C1 [{c1}] /N 1 >>")
    shading = writer.add(
        f"<< /ShadingType 2 /ColorSpace /{colour_space} /Coords [100 0 500 0] "
        f"/Function {function} /Extend [false false] >>"
    )
    writer.add_page(
        Page(BODY + "q 100 300 400 200 re W n /Sh1 sh Q", resources={"Shading": {"Sh1": shading}})
    )


def _transparent(alpha: str) -> Callable[[PdfWriter], None]:
    def build(writer: PdfWriter) -> None:
        state = writer.add(f"<< /Type /ExtGState /ca {alpha} /CA {alpha} >>")
        writer.add_page(
            Page(
                BODY + "q /GS1 gs 1 0 0 rg 100 300 300 200 re f Q",
                resources={"ExtGState": {"GS1": state}},
            )
        )

    return build


def _form_with_tiny_colour_text(writer: PdfWriter) -> None:
    form = writer.add_stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 200 50] "
        f"/Resources << /Font << /F1 {writer.helvetica} >> >>",
        b"BT /F1 3 Tf 0 0 1 rg 10 10 Td (blue footnote) Tj ET",
    )
    writer.add_page(
        Page(BODY + "q 1 0 0 1 72 100 cm /Fm1 Do Q", resources={"XObject": {"Fm1": form}})
    )


def _colour_annotation(writer: PdfWriter) -> None:
    appearance = writer.add_stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 100 50]", b"0 0.6 0 rg 0 0 100 50 re f"
    )
    annotation = writer.add(
        f"<< /Type /Annot /Subtype /Square /Rect [100 300 200 350] /F 4 "
        f"/C [0 0.6 0] /AP << /N {appearance} >> >>"
    )
    writer.add_page(Page(BODY, annots=[annotation]))


def _mixed_sizes(writer: PdfWriter) -> None:
    writer.add_page(Page(BODY, width=612, height=792))
    writer.add_page(Page(BODY + "1 0 0 rg 72 600 200 100 re f", width=842, height=1191))
    writer.add_page(Page("", width=420, height=595))
    writer.add_page(Page(BODY, width=612, height=1008))
    writer.add_page(Page(BODY + "0 0 1 RG 4 w 72 72 m 500 500 l S", width=792, height=1224))
    writer.add_page(Page(LOW_BODY, width=500, height=500))
    writer.add_page(Page(LOW_BODY, width=842, height=595))
    writer.add_page(Page(BODY, width=612, height=792, rotate=90))


PDF_CASES: dict[str, tuple[Callable[[PdfWriter], None], tuple[tuple[str, str], ...]]] = {
    "mono_text": (_one_page(BODY), ((MONO, "A4"),)),
    "colour_text": (
        _one_page(BODY + "BT /F1 18 Tf 0.8 0 0 rg 72 700 Td (Red heading) Tj ET"),
        ((COLOUR, "A4"),),
    ),
    "tiny_colour_text": (
        _one_page(BODY + "BT /F1 3 Tf 1 0 0 rg 72 100 Td (x) Tj ET"),
        ((COLOUR, "A4"),),
    ),
    "tiny_colour_text_in_form": (_form_with_tiny_colour_text, ((COLOUR, "A4"),)),
    "colour_vector_art": (_one_page(BODY + "0 0 0.8 rg 100 300 300 200 re f"), ((COLOUR, "A4"),)),
    "colour_hairline": (_one_page(BODY + "0 w 0 0 1 RG 100 300 m 400 320 l S"), ((COLOUR, "A4"),)),
    "tiny_colour_dot": (_one_page(BODY + "1 0 0 rg 300 300 0.8 0.8 re f"), ((COLOUR, "A4"),)),
    "grey_vector_art": (
        _one_page(BODY + "0.5 g 100 300 300 200 re f 0.3 0.3 0.3 rg 50 50 80 80 re f"),
        ((MONO, "A4"),),
    ),
    "cmyk_black_only": (
        _one_page(BODY + "0 0 0 1 k 100 300 300 200 re f 0 0 0 0.4 K 5 w 50 50 m 500 60 l S"),
        ((MONO, "A4"),),
    ),
    "cmyk_colour": (_one_page(BODY + "0 1 1 0 k 100 300 300 200 re f"), ((COLOUR, "A4"),)),
    "colour_image": (_image_page("/DeviceRGB", _gradient(64, 64, grey=False)), ((COLOUR, "A4"),)),
    "grey_image": (_image_page("/DeviceGray", bytes(range(256)) * 16), ((MONO, "A4"),)),
    "rgb_encoded_grey_image": (
        _image_page("/DeviceRGB", _gradient(64, 64, grey=True)),
        ((MONO, "A4"),),
    ),
    "tiny_colour_image": (_small_image_page(grey=False), ((COLOUR, "A4"),)),
    "tiny_grey_image": (_small_image_page(grey=True), ((MONO, "A4"),)),
    "colour_jpeg_photo": (_jpeg_page(grey=False), ((COLOUR, "A4"),)),
    "rgb_encoded_grey_jpeg_photo": (_jpeg_page(grey=True), ((MONO, "A4"),)),
    "indexed_grey_image": (
        _image_page(
            "[/Indexed /DeviceRGB 3 <000000 555555 AAAAAA FFFFFF>]", bytes(range(4)) * 1024
        ),
        ((MONO, "A4"),),
    ),
    "spot_colour": (
        _separation("PANTONE#20185#20C", "DeviceCMYK", "0 0 0 0", "0 0.9 0.8 0"),
        ((COLOUR, "A4"),),
    ),
    "spot_black": (_separation("Black", "DeviceGray", "1", "0"), ((MONO, "A4"),)),
    "devicen_colour": (_devicen, ((COLOUR, "A4"),)),
    "transparent_colour": (_transparent("0.3"), ((COLOUR, "A4"),)),
    "fully_transparent_colour": (_transparent("0"), ((MONO, "A4"),)),
    "colour_hidden_under_white": (
        _one_page(BODY + "1 0 0 rg 100 300 300 200 re f 1 g 90 290 320 220 re f"),
        ((MONO, "A4"),),
    ),
    "colour_shading": (lambda w: _shading(w, "DeviceRGB", "1 0 0", "0 0 1"), ((COLOUR, "A4"),)),
    "grey_shading": (lambda w: _shading(w, "DeviceGray", "0", "1"), ((MONO, "A4"),)),
    "colour_annotation": (_colour_annotation, ((COLOUR, "A4"),)),
    "colour_tiling_pattern": (
        _pattern_page("1:1 0 0 rg 0 0 5 5 re f", "/Pattern cs /P1 scn 100 300 300 200 re f"),
        ((COLOUR, "A4"),),
    ),
    "grey_tiling_pattern": (
        _pattern_page("1:0.5 g 0 0 5 5 re f", "/Pattern cs /P1 scn 100 300 300 200 re f"),
        ((MONO, "A4"),),
    ),
    "uncoloured_pattern_in_red": (
        _pattern_page("2:0 0 5 5 re f", "/PatRGB cs 1 0 0 /P1 scn 100 300 300 200 re f"),
        ((COLOUR, "A4"),),
    ),
    "shading_pattern_fill": (
        _pattern_page("shading:1 0 0", "/Pattern cs /P1 scn 100 300 300 200 re f"),
        ((COLOUR, "A4"),),
    ),
    "shading_pattern_text": (
        _pattern_page(
            "shading:1 0 0", "BT /F1 30 Tf /Pattern cs /P1 scn 72 500 Td (Pattern text) Tj ET"
        ),
        ((COLOUR, "A4"),),
    ),
    "blank_page": (_one_page(""), ((BLANK, "A4"),)),
    "white_only_page": (
        _one_page("1 g 0 0 595 842 re f 1 1 1 rg 72 72 100 100 re f"),
        ((BLANK, "A4"),),
    ),
    "content_off_page": (
        _one_page("1 0 0 rg 700 100 50 50 re f " + BODY.replace(" 760 ", " 900 ")),
        ((BLANK, "A4"),),
    ),
    "invisible_colour_text": (
        _one_page("BT 3 Tr /F1 12 Tf 1 0 0 rg 72 700 Td (OCR layer) Tj ET"),
        ((BLANK, "A4"),),
    ),
    "mixed_sizes": (
        _mixed_sizes,
        (
            (MONO, "Letter"),
            (COLOUR, "A3"),
            (BLANK, "A5"),
            (MONO, "Legal"),
            (COLOUR, "Tabloid"),
            (MONO, "custom"),
            (MONO, "A4"),
            (MONO, "Letter"),
        ),
    ),
}

PS_HEAD = "%!PS-Adobe-3.0\n%%Pages: 1\n<< /PageSize [595 842] >> setpagedevice\n"
PS_BODY = (
    "/Helvetica findfont 11 scalefont setfont 0 setgray 72 760 moveto (Black body text) show\n"
)
PS_CASES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "ps_colour_text": (
        PS_BODY + "/Helvetica findfont 18 scalefont setfont 0.8 0 0 setrgbcolor "
        "72 700 moveto (Red heading) show showpage\n",
        ((COLOUR, "A4"),),
    ),
    "ps_rgb_grey_fill": (
        PS_BODY + "0.5 0.5 0.5 setrgbcolor 100 300 300 200 rectfill showpage\n",
        ((MONO, "A4"),),
    ),
    "ps_tiny_colour_text": (
        PS_BODY + "/Helvetica findfont 3 scalefont setfont 0 0 1 setrgbcolor "
        "72 100 moveto (x) show showpage\n",
        ((COLOUR, "A4"),),
    ),
    "ps_three_pages": (
        PS_BODY
        + "showpage showpage "
        + PS_BODY
        + "0 1 0 setrgbcolor 100 100 200 200 rectfill showpage\n",
        ((MONO, "A4"), (BLANK, "A4"), (COLOUR, "A4")),
    ),
}


XPS_NS = "http://schemas.microsoft.com/xps/2005/06"


def _xps_image(grey: bool) -> bytes:
    encoded = io.BytesIO()
    Image.frombytes("RGB", (64, 64), _gradient(64, 64, grey=grey)).save(encoded, "PNG")
    return encoded.getvalue()


XPS_PAGES: tuple[tuple[str, str], ...] = (  # (page body, truth)
    ('<Path Fill="#FF000000" Data="M 96,96 L 600,96 600,120 96,120 Z" />', MONO),
    ('<Path Fill="#CC0000" Data="M 96,96 L 600,96 600,300 96,300 Z" />', COLOUR),
    ("", BLANK),
    (
        '<Path Data="M 96,96 L 400,96 400,400 96,400 Z"><Path.Fill><ImageBrush '
        'ImageSource="/Resources/grey.png" Viewbox="0,0,64,64" ViewboxUnits="Absolute" '
        'Viewport="96,96,304,304" ViewportUnits="Absolute" /></Path.Fill></Path>',
        MONO,
    ),
    (
        '<Path Data="M 96,96 L 400,96 400,400 96,400 Z"><Path.Fill><ImageBrush '
        'ImageSource="/Resources/colour.png" Viewbox="0,0,64,64" ViewboxUnits="Absolute" '
        'Viewport="96,96,304,304" ViewportUnits="Absolute" /></Path.Fill></Path>',
        COLOUR,
    ),
    (
        '<Glyphs Fill="sc#1,0,0,0.9" FontUri="/Resources/font.ttf" FontRenderingEmSize="4" '
        'OriginX="96" OriginY="200" UnicodeString="tiny" />',
        COLOUR,
    ),
    (
        '<Path Fill="#00FF0000" Data="M 96,96 L 600,96 600,300 96,300 Z" />'
        '<Path Stroke="#404040" StrokeThickness="1" Data="M 96,96 L 600,96" />',
        MONO,
    ),
)


def build_xps(path: Path) -> tuple[tuple[str, str], ...]:
    """An XPS package: one page per XPS_PAGES entry, A4 (793.7 x 1122.5 units of 1/96 in)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Type="http://schemas.microsoft.com/xps/2005/06/fixedrepresentation" '
            'Target="/FixedDocumentSequence.fdseq" Id="R0" /></Relationships>',
        )
        package.writestr(
            "FixedDocumentSequence.fdseq",
            f'<FixedDocumentSequence xmlns="{XPS_NS}"><DocumentReference '
            'Source="Documents/1/FixedDocument.fdoc" /></FixedDocumentSequence>',
        )
        references = "".join(
            f'<PageContent Source="Pages/{n}.fpage" />' for n in range(1, len(XPS_PAGES) + 1)
        )
        package.writestr(
            "Documents/1/FixedDocument.fdoc",
            f'<FixedDocument xmlns="{XPS_NS}">{references}</FixedDocument>',
        )
        for number, (body, _) in enumerate(XPS_PAGES, start=1):
            package.writestr(
                f"Documents/1/Pages/{number}.fpage",
                f'<FixedPage Width="793.7" Height="1122.5" xmlns="{XPS_NS}">{body}</FixedPage>',
            )
        package.writestr("Resources/grey.png", _xps_image(grey=True))
        package.writestr("Resources/colour.png", _xps_image(grey=False))
    return tuple((truth, "A4") for _, truth in XPS_PAGES)


def _pxl_ubyte(value: int, attribute: int) -> bytes:
    return bytes((0xC0, value, 0xF8, attribute))


def _pxl_page(media: bytes, body: bytes) -> bytes:
    """BeginPage with the given media attributes, the body, EndPage with one copy."""
    return media + b"\x43" + body + b"\xc1\x01\x00\xf8\x31\x44"


def build_pclxl(path: Path) -> tuple[tuple[str, str], ...]:
    """A little-endian PCL XL stream: grey, RGB colour, RGB grey, blank and sized pages."""
    portrait_a4 = _pxl_ubyte(0, 0x28) + _pxl_ubyte(2, 0x25)
    landscape_letter = _pxl_ubyte(1, 0x28) + _pxl_ubyte(0, 0x25)
    custom = (
        _pxl_ubyte(0, 0x28)
        + b"\xd5"
        + struct.pack("<ff", 8.0, 8.0)
        + b"\xf8\x2f"  # CustomMediaSize 8 x 8
        + _pxl_ubyte(0, 0x30)  # CustomMediaSizeUnits: inch
    )
    rectangle = b"\xe1" + struct.pack("<4H", 100, 100, 1000, 600) + b"\xf8\x42\xa0"
    grey = _pxl_ubyte(1, 0x03) + b"\x6a" + _pxl_ubyte(0, 0x09) + b"\x63"
    red = _pxl_ubyte(2, 0x03) + b"\x6a" + b"\xc8\xc0\x03\xdd\x10\x10\xf8\x0b\x63"
    rgb_grey = _pxl_ubyte(2, 0x03) + b"\x6a" + b"\xc8\xc0\x03\x80\x80\x80\xf8\x0b\x63"
    session = (
        b"\xd1"
        + struct.pack("<HH", 600, 600)
        + b"\xf8\x89"  # UnitsPerMeasure
        + _pxl_ubyte(0, 0x86)
        + _pxl_ubyte(3, 0x8F)
        + b"\x41"
    )
    pages = (
        (portrait_a4, grey + rectangle, (MONO, "A4")),
        (portrait_a4, red + rectangle, (COLOUR, "A4")),
        (landscape_letter, rgb_grey + rectangle, (MONO, "Letter")),
        (portrait_a4, b"", (BLANK, "A4")),
        (custom, red + rectangle, (COLOUR, "custom")),
    )
    stream = b"".join(_pxl_page(media, body) for media, body, _ in pages)
    path.write_bytes(
        b"\x1b%-12345X@PJL ENTER LANGUAGE=PCLXL\r\n) HP-PCL XL;2;0;generated\r\n"
        + session
        + stream
        + b"\x42\x1b%-12345X"
    )
    return tuple(truth for _, _, truth in pages)


def build_pcl5(path: Path) -> tuple[tuple[str, str], ...]:
    """PCL 5: text pages ended by form feeds, a landscape Legal page, a colour palette
    page, an empty page ejected by a form feed, and binary raster holding 0x0C bytes."""
    raster = b"\x1b*r1A" + b"".join(b"\x1b*b4W\x0c\x0c\x0c\x0c" for _ in range(3)) + b"\x1b*rC"
    job = (
        b"\x1b%-12345X@PJL ENTER LANGUAGE=PCL\r\n\x1bE\x1b&l26A"
        + b"Page one, plain text.\r\n\x0c"
        + b"\x1b&l3a1O"
        + b"Legal landscape.\r\n"
        + raster
        + b"\x0c"
        + b"\x1b&l26a0O\x1b*r3U\x1b*v2S"
        + b"Red text in simple RGB mode.\x0c"
        + b"\x0c"
        + b"\x1b*r1U\x1b&p5XPlain\x1bE\x1b%-12345X"
    )
    path.write_bytes(job)
    return ((MONO, "A4"), (MONO, "Legal"), (COLOUR, "A4"), (BLANK, "A4"), (MONO, "A4"))


def build_suite(directory: Path) -> list[Case]:
    """Write every case into ``directory``; PostScript cases also as a gzip'd copy."""
    cases = []
    for name, (build, truth) in PDF_CASES.items():
        writer = PdfWriter()
        build(writer)
        path = directory / f"{name}.pdf"
        writer.write(path)
        cases.append(Case(name, path, truth))
    for name, (body, truth) in PS_CASES.items():
        path = directory / f"{name}.ps"
        path.write_text(PS_HEAD + body, encoding="latin-1")
        cases.append(Case(name, path, truth))
    gzipped = directory / "ps_three_pages.ps.gz"
    gzipped.write_bytes(gzip.compress((directory / "ps_three_pages.ps").read_bytes()))
    cases.append(Case("ps_three_pages_gzip", gzipped, PS_CASES["ps_three_pages"][1]))
    pcl5 = directory / "mixed.pcl"
    cases.append(Case("pcl5_mixed_pages", pcl5, build_pcl5(pcl5)))
    pclxl = directory / "mixed.pxl"
    cases.append(Case("pclxl_mixed_pages", pclxl, build_pclxl(pclxl)))
    xps = directory / "mixed.xps"
    cases.append(Case("xps_mixed_pages", xps, build_xps(xps)))
    return cases


def build_large(path: Path, pages: int) -> tuple[tuple[str, str], ...]:
    """A long document cycling mono text, colour text, an RGB-grey image and a blank page.

    The image is one shared XObject so the file stays small while every fourth page
    still makes the analyser look at image pixels.
    """
    writer = PdfWriter()
    image = writer.add_image(64, 64, "/DeviceRGB", _gradient(64, 64, grey=True))
    cycle = (
        (BODY * 1, MONO),
        (BODY + "BT /F1 3 Tf 1 0 0 rg 72 100 Td (tiny red note) Tj ET", COLOUR),
        (BODY + "q 300 0 0 300 140 300 cm /Im1 Do Q", MONO),
        ("", BLANK),
    )
    truth = []
    for number in range(pages):
        content, colour = cycle[number % len(cycle)]
        writer.add_page(Page(content, resources={"XObject": {"Im1": image}}), compress=True)
        truth.append((colour, "A4"))
    writer.write(path)
    return tuple(truth)


def ghostscript_available() -> bool:
    try:
        return subprocess.run(["gs", "--version"], capture_output=True, check=False).returncode == 0
    except OSError:
        return False
