"""The PDF card sheet, read back as a person and a scanner would: pdftoppm renders each
page, pyzbar reads every QR code, pdftotext reads the text, and the cut marks are found
as dark pixels where they must be (and none inside a card's corner)."""

from __future__ import annotations

import os
import random
import re
import stat
import subprocess
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import overload

import pytest
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from backend.voucher_cards import (
    CARD_HEIGHT,
    CARD_WIDTH,
    CARDS_PER_PAGE,
    MARK_OFFSET,
    CardFace,
    CardSheetError,
    card_faces,
    card_origin,
    format_expiry,
    format_value,
    write_card_sheet,
)
from billing.voucher_codes import assess, new_code

DPI = 150
MM = 72 / 25.4  # points per millimetre


def faces(count: int, language: str = "en", prefix: str = "LIB") -> list[CardFace]:
    rng = random.Random(13)
    codes = [(serial, new_code(prefix, rng.getrandbits).display)
             for serial in range(1, count + 1)]
    return card_faces(codes, amount=Decimal("5.00"), currency="EUR",
                      expires_on=date(2027, 6, 30), site="Library, Main Campus",
                      count=500, prefix=prefix, language=language)


def render(pdf: Path, page: int, out: Path) -> Image.Image:
    stem = out / f"page{page}"
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", "-singlefile",
                    "-f", str(page), "-l", str(page), str(pdf), str(stem)], check=True)
    return Image.open(f"{stem}.png").convert("L")


def page_text(pdf: Path, page: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    return int(next(line for line in info.splitlines() if line.startswith("Pages:"))
               .split()[1])


def test_23_cards_fill_three_pages_and_every_qr_scans_as_its_code(tmp_path: Path) -> None:
    cards = faces(23)
    output = tmp_path / "cards.pdf"
    assert write_card_sheet(cards, output) == 3
    assert page_count(output) == 3
    for page in range(1, 4):
        expected = [face.code for face in cards[(page - 1) * 10:page * 10]]
        image = render(output, page, tmp_path)
        scanned = [r.data.decode() for r in decode(image, symbols=[ZBarSymbol.QRCODE])]
        assert sorted(scanned) == sorted(expected), page
        # what the scanner reads is what the kiosk accepts: a valid body with its prefix
        assert all(assess(code).status == "valid" for code in scanned)
        text = page_text(output, page)
        for face in cards[(page - 1) * 10:page * 10]:
            assert face.code in text
            assert f"No. {face.serial}" in text
        assert text.count("€5.00") == len(expected)
        assert text.count("Valid until 30 June 2027") == len(expected)
        others = set(face.code for face in cards) - set(expected)
        assert not any(code in text for code in others), page
    assert len(expected) == 3  # the last page holds the three left over


def test_the_code_is_printed_large_enough_to_type_from(tmp_path: Path) -> None:
    """The code's characters are at least 3 mm tall on paper (measured on the render)."""
    output = tmp_path / "cards.pdf"
    write_card_sheet(faces(1), output)
    box = subprocess.run(["pdftotext", "-bbox", str(output), "-"], check=True,
                         capture_output=True, text=True).stdout
    code = faces(1)[0].code
    line = next(line for line in box.splitlines() if f">{code}<" in line)
    fields = {key: float(value) for key, value in re.findall(r'(\w+)="([\d.]+)"', line)}
    height_mm = (fields["yMax"] - fields["yMin"]) / MM
    width_mm = (fields["xMax"] - fields["xMin"]) / MM
    assert height_mm >= 4.0, height_mm  # the font's box; capitals are ~3.3 mm
    assert width_mm < CARD_WIDTH / MM - 8  # inside the card's 4 mm padding


def _dark(image: Image.Image, x_pt: float, y_pt: float, radius: int = 1) -> bool:
    """Whether any pixel near the point (PDF points, origin bottom left) is dark."""
    scale = DPI / 72
    px, py = round(x_pt * scale), round(image.height - y_pt * scale)
    return any(image.getpixel((px + dx, py + dy)) < 128
               for dx in range(-radius, radius + 1) for dy in range(-radius, radius + 1))


def test_cut_marks_at_every_card_corner_outside_the_cards(tmp_path: Path) -> None:
    output = tmp_path / "cards.pdf"
    write_card_sheet(faces(10), output)
    image = render(output, 1, tmp_path)
    step = MARK_OFFSET + 0.5 * MM  # half a millimetre into each mark
    origins = [card_origin(index) for index in range(CARDS_PER_PAGE)]
    for index, (x, y) in enumerate(origins):
        # the card is credit-card size and lies wholly on the page
        assert x > 0 and x + CARD_WIDTH < 595.3 and y > 0 and y + CARD_HEIGHT < 841.9
        assert (round(CARD_WIDTH / MM, 1), round(CARD_HEIGHT / MM, 1)) == (85.6, 54.0)
        for other in origins[index + 1:]:  # no two cards touch: each corner is its own
            apart_x = abs(other[0] - x) >= CARD_WIDTH + 2 * MM
            apart_y = abs(other[1] - y) >= CARD_HEIGHT + 2 * MM
            assert apart_x or apart_y
        corners = [(x, y, -1, -1), (x + CARD_WIDTH, y, 1, -1),
                   (x, y + CARD_HEIGHT, -1, 1), (x + CARD_WIDTH, y + CARD_HEIGHT, 1, 1)]
        for cx, cy, sx, sy in corners:
            assert _dark(image, cx + sx * step, cy), ("horizontal mark", index, cx, cy)
            assert _dark(image, cx, cy + sy * step), ("vertical mark", index, cx, cy)
            # the marks stop short of the card: its corner and the corner's inside are white
            assert not _dark(image, cx, cy, radius=0), ("mark on the corner", index)
            assert not _dark(image, cx - sx * 1.5 * MM, cy - sy * 1.5 * MM, radius=2)


def test_french_cards_format_value_and_date_for_french_readers(tmp_path: Path) -> None:
    assert format_value(Decimal("5"), "EUR", "fr") == "5,00\u00a0€"
    assert format_value(Decimal("1234.5"), "EUR", "fr") == "1\u202f234,50\u00a0€"
    assert format_value(Decimal("5.00"), "EUR", "en") == "€5.00"
    assert format_expiry(date(2027, 6, 30), "fr") == "30 juin 2027"
    assert format_expiry(date(2027, 6, 30), "en") == "30 June 2027"
    with pytest.raises(CardSheetError, match="language 'de'"):
        format_expiry(date(2027, 6, 30), "de")
    output = tmp_path / "cartes.pdf"
    cards = faces(2, language="fr", prefix="")
    assert cards[0].serial == "1/500"
    write_card_sheet(cards, output)
    text = page_text(output, 1).replace("\u00a0", " ")
    assert text.count("5,00 €") == 2
    assert text.count("Valable jusqu’au 30 juin 2027") == 2
    assert "N° 2/500" in text


class _FailsAt(Sequence[CardFace]):
    """A lazy sequence of faces (as from a CSV export) that breaks at one card."""

    def __init__(self, cards: list[CardFace], broken: int) -> None:
        self.cards, self.broken = cards, broken

    def __len__(self) -> int:
        return len(self.cards)

    @overload
    def __getitem__(self, index: int) -> CardFace: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[CardFace]: ...
    def __getitem__(self, index: int | slice) -> CardFace | Sequence[CardFace]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index == self.broken:
            raise OSError("export file truncated")
        return self.cards[index]


def test_a_failure_half_way_leaves_the_previous_file_and_no_partial_one(
        tmp_path: Path) -> None:
    output = tmp_path / "cards.pdf"
    output.write_bytes(b"the sheet printed yesterday")
    with pytest.raises(OSError, match="truncated"):
        write_card_sheet(_FailsAt(faces(15), broken=12), output)
    assert output.read_bytes() == b"the sheet printed yesterday"
    assert sorted(os.listdir(tmp_path)) == ["cards.pdf"]  # no temporary file left behind


def test_the_sheet_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    output = tmp_path / "cards.pdf"
    write_card_sheet(faces(1), output)
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert output.read_bytes().startswith(b"%PDF-")


def test_bad_requests_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CardSheetError, match="no cards to print"):
        write_card_sheet([], tmp_path / "cards.pdf")
    with pytest.raises(CardSheetError, match="does not exist"):
        write_card_sheet(faces(1), tmp_path / "missing" / "cards.pdf")
    with pytest.raises(CardSheetError, match="code is empty"):
        CardFace(code=" ", value="€5.00", expires="30 June 2027", site="x", serial="1/1")
    too_long = CardFace(code="X" * 60, value="€5.00", expires="30 June 2027", site="x",
                        serial="1/1")
    with pytest.raises(CardSheetError, match="does not fit on a card"):
        write_card_sheet([too_long], tmp_path / "cards.pdf")
    assert not (tmp_path / "cards.pdf").exists()


def test_a_long_site_name_takes_two_lines_and_a_longer_one_is_refused(
        tmp_path: Path) -> None:
    long_name = "University of Somewhere Very Long Name Library Services"
    card = CardFace(code=faces(1)[0].code, value="€5.00", expires="30 June 2027",
                    site=long_name, serial="1/1")
    output = tmp_path / "cards.pdf"
    write_card_sheet([card], output)
    text = page_text(output, 1)
    assert "University of Somewhere Very\nLong Name Library Services" in text
    assert [r.data.decode() for r in decode(render(output, 1, tmp_path))] == [card.code]
    with pytest.raises(CardSheetError, match=r"site name .* does not fit on a card in two "
                                             r"lines even at 6 pt: shorten it"):
        write_card_sheet([CardFace(code=card.code, value="€5.00", expires="30 June 2027",
                                   site=long_name * 3, serial="1/1")], output)


def test_the_text_lines_for_a_receipt_printer_card_say_what_the_pdf_says(
        tmp_path: Path) -> None:
    [card] = faces(1, language="fr")
    assert card.text_lines() == ["Library, Main Campus", "5,00\u00a0€",
                                 "Valable jusqu’au 30 juin 2027", "N° LIB 1/500",
                                 "À utiliser sur une borne : Ajouter du crédit"]
    output = tmp_path / "cards.pdf"
    write_card_sheet([card], output)
    text = page_text(output, 1)  # pdftotext writes the no-break space as a space
    assert all(line.replace("\u00a0", " ") in text for line in card.text_lines())
