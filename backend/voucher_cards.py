"""Voucher cards as a PDF: A4 sheets of ten credit-card-size cards with cut marks.

An operator prints the sheet on card stock on any office printer and cuts it; nothing
else is needed (PaperCut's cards need Windows and Word). Each card shows the site, the
value, the code in a monospace font large enough to type from, a QR code of that same
display code (what the kiosk's scanner reads), the expiry date and the serial.

Layout decisions (docs/voucher-cards-and-receipts.md):

* Cards are 85.6 x 54 mm (ISO/IEC 7810 ID-1), two columns of five, with gutters between
  them (10 mm between columns, 3 mm between rows) so that every card corner gets its own
  cut marks outside every card: marks never print on a neighbour, and a cut a little off
  the line still leaves no mark on the card.
* Text is set in DejaVu Sans and DejaVu Sans Mono, embedded (subset) in the PDF: French
  amounts use a no-break space before the euro sign and a narrow no-break space between
  thousands, which the 14 standard PDF fonts cannot show. Debian's fonts-dejavu-core
  ships them (scripts/apt-packages.txt).
* The QR code keeps its four-module quiet zone inside its square and uses error
  correction M (15 %), which survives a scuffed card.
* The file is written to a temporary file beside the output and renamed over it at the
  end, so a failure half-way never leaves a half-written sheet where cards are expected.

The backend has no gettext catalogue (its texts live in the kiosk's), so the three
labels printed on a card are a small table here, English and French like the kiosk.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from billing.formatting import format_money
from billing.money import Money

mm = 72 / 25.4  # points per millimetre (reportlab's unit is the point)
CARD_WIDTH = 85.6 * mm
CARD_HEIGHT = 54.0 * mm
COLUMNS = 2
ROWS = 5
CARDS_PER_PAGE = COLUMNS * ROWS
COLUMN_GAP = 10.0 * mm
ROW_GAP = 3.0 * mm
PAGE_WIDTH: float = A4[0]
PAGE_HEIGHT: float = A4[1]
MARGIN_X = (PAGE_WIDTH - COLUMNS * CARD_WIDTH - (COLUMNS - 1) * COLUMN_GAP) / 2
MARGIN_Y = (PAGE_HEIGHT - ROWS * CARD_HEIGHT - (ROWS - 1) * ROW_GAP) / 2
# A cut mark starts this far from the corner (a cut slightly outside the line leaves no
# mark on the card) and runs up to MARK_LENGTH, stopping as far short of a neighbour.
MARK_OFFSET = 0.75 * mm
MARK_LENGTH = 3.0 * mm
MARK_WIDTH = 0.5  # points
PADDING = 4.0 * mm
QR_SIZE = 30.0 * mm  # quiet zone included
CODE_POINTS = 13.0  # capitals 3.3 mm tall: read and typed from at arm's length
CODE_SMALLEST = 10.0  # a longer code is refused rather than printed too small to type

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {
    "CardSans": "DejaVuSans.ttf",
    "CardSans-Bold": "DejaVuSans-Bold.ttf",
    "CardMono-Bold": "DejaVuSansMono-Bold.ttf",
}

LABELS: dict[str, dict[str, str]] = {
    "en": {"valid_until": "Valid until {date}", "serial": "No. {serial}",
           "redeem": "Redeem at a print kiosk: Add credit"},
    "fr": {"valid_until": "Valable jusqu’au {date}", "serial": "N° {serial}",
           "redeem": "À utiliser sur une borne : Ajouter du crédit"},
}


class CardSheetError(ValueError):
    """Cards that cannot be printed (no card, a font missing); says what and where."""


@dataclass(frozen=True)
class CardFace:
    """What one printed card shows, already formatted for the site's language."""

    code: str  # display form, also the QR payload, e.g. "LIB-7K3M-Q9XA-2BFD-HW"
    value: str  # e.g. "€5.00" / "5,00 €"
    expires: str  # e.g. "30 June 2027" / "30 juin 2027"
    site: str  # site name from backend.toml
    serial: str  # e.g. "LIB 17/500"
    language: str = "en"  # of the card's labels ("Valid until", "No.")

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise CardSheetError(f"card {self.serial!r}: the code is empty")
        if self.language not in LABELS:
            raise CardSheetError(f"card {self.serial!r}: language {self.language!r}: "
                                 f"expected one of {', '.join(LABELS)}")

    @property
    def valid_until(self) -> str:
        return LABELS[self.language]["valid_until"].format(date=self.expires)

    @property
    def numbered(self) -> str:
        return LABELS[self.language]["serial"].format(serial=self.serial)

    @property
    def redeem_hint(self) -> str:
        return LABELS[self.language]["redeem"]

    def text_lines(self) -> list[str]:
        """The card's text above its code, one line each, for a receipt printer's card
        (``drivers.receipt.print_voucher_card(lines=...)``): the same words as the PDF."""
        return [self.site, self.value, self.valid_until, self.numbered, self.redeem_hint]


def format_value(amount: Decimal, currency: str, language: str) -> str:
    """A card's value as the site's language writes money (``€5.00``, ``5,00 €``)."""
    return format_money(Money.of(str(amount), currency), language)


def format_expiry(day: date, language: str) -> str:
    """The last day a card is valid, day month year with the month in words in both
    languages (``30 June 2027``, ``30 juin 2027``): never ambiguous like 06/07/2027."""
    if language not in LABELS:
        raise CardSheetError(f"language {language!r}: expected one of {', '.join(LABELS)}")
    return format_date(day, format="d MMMM y", locale=language)


def card_faces(
    codes: Sequence[tuple[int, str]],
    *,
    amount: Decimal,
    currency: str,
    expires_on: date,
    site: str,
    count: int,
    prefix: str = "",
    language: str = "en",
) -> list[CardFace]:
    """The faces of a batch's cards: ``codes`` are (serial, display code) pairs, ``count``
    the batch size, so that a card says ``LIB 17/500``."""
    value = format_value(amount, currency, language)
    expires = format_expiry(expires_on, language)
    label = f"{prefix} " if prefix else ""
    return [CardFace(code=code, value=value, expires=expires, site=site,
                     serial=f"{label}{serial}/{count}", language=language)
            for serial, code in codes]


def _register_fonts() -> None:
    """Embed DejaVu (once per process); a missing file names the Debian package."""
    for name, file_name in FONTS.items():
        if name in pdfmetrics.getRegisteredFontNames():
            continue
        path = FONT_DIR / file_name
        if not path.is_file():
            raise CardSheetError(f"font {path} not found: install the Debian package "
                                 "fonts-dejavu-core (scripts/apt-packages.txt)")
        pdfmetrics.registerFont(TTFont(name, str(path)))


def card_origin(index: int) -> tuple[float, float]:
    """Bottom-left corner (points) of the ``index``-th card of a page, filled row by row
    from the top left, as people read."""
    row, column = divmod(index, COLUMNS)
    x = MARGIN_X + column * (CARD_WIDTH + COLUMN_GAP)
    y = PAGE_HEIGHT - MARGIN_Y - (row + 1) * CARD_HEIGHT - row * ROW_GAP
    return x, y


def cut_marks(index: int) -> list[tuple[float, float, float, float]]:
    """The cut-mark lines (x1, y1, x2, y2 in points) of one card: at each corner, one
    mark along each edge's line, pointing away from the card, never onto a neighbour."""
    x, y = card_origin(index)
    row, column = divmod(index, COLUMNS)

    def reach(gap: float | None) -> float:
        """How far a mark runs out: into a gutter (the neighbour's mark on the same line
        may meet it), or into the page margin (None)."""
        full = MARK_OFFSET + MARK_LENGTH
        return full if gap is None else min(full, gap - MARK_OFFSET)

    left = reach(None if column == 0 else COLUMN_GAP)
    right = reach(None if column == COLUMNS - 1 else COLUMN_GAP)
    below = reach(None if row == ROWS - 1 else ROW_GAP)
    above = reach(None if row == 0 else ROW_GAP)
    marks = []
    for cy in (y, y + CARD_HEIGHT):
        marks.append((x - MARK_OFFSET, cy, x - left, cy))
        marks.append((x + CARD_WIDTH + MARK_OFFSET, cy, x + CARD_WIDTH + right, cy))
    for cx in (x, x + CARD_WIDTH):
        marks.append((cx, y - MARK_OFFSET, cx, y - below))
        marks.append((cx, y + CARD_HEIGHT + MARK_OFFSET, cx, y + CARD_HEIGHT + above))
    return marks


def _fit(text: str, font: str, size: float, width: float, smallest: float = 6.0) -> float:
    """The largest size up to ``size`` at which ``text`` fits ``width``; an error when not
    even ``smallest`` does (a card that cannot be read must not be printed)."""
    natural = float(pdfmetrics.stringWidth(text, font, size))
    if natural <= width:
        return size
    fitted = size * width / natural
    if fitted < smallest:
        raise CardSheetError(f"{text!r} does not fit on a card even at {smallest:g} pt")
    return fitted


def _draw_text(canvas: Canvas, text: str, font: str, size: float, x: float, y: float,
               width: float, smallest: float = 6.0) -> None:
    canvas.setFont(font, _fit(text, font, size, width, smallest))
    canvas.drawString(x, y, text)


def _draw_site(canvas: Canvas, site: str, x: float, top: float, width: float) -> None:
    """The site name on one or two lines beside the QR code, from 9 pt down to 6 pt."""
    size = 9.0
    while True:
        lines = simpleSplit(site, "CardSans-Bold", size, width)
        if len(lines) <= 2 and all(
                pdfmetrics.stringWidth(line, "CardSans-Bold", size) <= width for line in lines):
            break
        size -= 0.5
        if size < 6:
            raise CardSheetError(f"site name {site!r} does not fit on a card in two lines "
                                 "even at 6 pt: shorten it")
    canvas.setFont("CardSans-Bold", size)
    for number, line in enumerate(lines, start=1):
        canvas.drawString(x, top - number * size * 1.15, line)


def _draw_card(canvas: Canvas, face: CardFace, x: float, y: float) -> None:
    left = x + PADDING
    text_width = CARD_WIDTH - 3 * PADDING - QR_SIZE
    top = y + CARD_HEIGHT - PADDING
    _draw_site(canvas, face.site, left, top, text_width)
    _draw_text(canvas, face.value, "CardSans-Bold", 24, left, top - 22 * mm + 9, text_width)
    _draw_text(canvas, face.valid_until, "CardSans", 8,
               left, top - 26 * mm, text_width)
    _draw_text(canvas, face.numbered, "CardSans", 7,
               left, top - 30 * mm, text_width)
    _draw_text(canvas, face.redeem_hint, "CardSans", 6, left, y + PADDING + 7 * mm,
               CARD_WIDTH - 2 * PADDING)
    _draw_text(canvas, face.code, "CardMono-Bold", CODE_POINTS, left, y + PADDING + 1 * mm,
               CARD_WIDTH - 2 * PADDING, smallest=CODE_SMALLEST)
    qr = QrCodeWidget(face.code, barLevel="M", barBorder=4, barWidth=QR_SIZE,
                      barHeight=QR_SIZE)
    drawing = Drawing(QR_SIZE, QR_SIZE)
    drawing.add(qr)
    qr_top = y + CARD_HEIGHT - PADDING + 4 * QR_SIZE / 33  # the quiet zone may use padding
    renderPDF.draw(drawing, canvas, x + CARD_WIDTH - PADDING - QR_SIZE + 2 * mm,
                   qr_top - QR_SIZE)


def _draw_page(canvas: Canvas, faces: Sequence[CardFace]) -> None:
    canvas.setLineWidth(MARK_WIDTH)
    canvas.setStrokeGray(0)
    for index, face in enumerate(faces):
        x, y = card_origin(index)
        _draw_card(canvas, face, x, y)
        for x1, y1, x2, y2 in cut_marks(index):
            canvas.line(x1, y1, x2, y2)
    canvas.showPage()


@contextlib.contextmanager
def _replacing(output: Path) -> Iterator[Path]:
    """A temporary path beside ``output``, renamed over it only when the block succeeds."""
    if not output.parent.is_dir():
        raise CardSheetError(f"{output}: the folder {output.parent} does not exist")
    # mkstemp creates the file 0600, and the rename keeps that: the codes are bearer
    # secrets, the operator's alone (docs/voucher-cards-and-receipts.md).
    handle, name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp",
                                    dir=output.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)


def write_card_sheet(faces: Sequence[CardFace], output: Path) -> int:
    """Write ``faces`` as A4 sheets of ten cards to ``output``; return the page count."""
    if not faces:
        raise CardSheetError(f"{output}: no cards to print")
    _register_fonts()
    pages = (len(faces) + CARDS_PER_PAGE - 1) // CARDS_PER_PAGE
    with _replacing(output) as temporary:
        canvas = Canvas(str(temporary), pagesize=A4, pageCompression=1)
        canvas.setTitle("Voucher cards")
        canvas.setCreator("printkiosk")
        for page in range(pages):
            _draw_page(canvas, faces[page * CARDS_PER_PAGE:(page + 1) * CARDS_PER_PAGE])
        canvas.save()
    return pages
