"""ATR lookup against pcsc-tools' smartcard_list.txt from the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.cards.atr import AtrList, format_atr, parse_atr_list

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"
LIST_FILE = CORPUS / "cards" / "smartcard_list.txt"


@pytest.fixture(scope="module")
def atr_list() -> AtrList:
    if not LIST_FILE.exists():
        pytest.skip(f"corpus file {LIST_FILE} is absent")
    return AtrList.from_file(LIST_FILE)


def test_every_entry_of_the_corpus_file_is_parsed(atr_list: AtrList) -> None:
    assert len(atr_list) == 5070  # MANIFEST.md: 5070 ATR entries


PART3 = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 {ss} 00 {nn} 00 00 00 00 {tck}"


@pytest.mark.parametrize(
    ("atr", "card_type"),
    [
        (PART3.format(ss="03", nn="01", tck="6A"),
         "NXP/Philips MIFARE Classic 1K (as per PCSC std part3)"),
        (PART3.format(ss="03", nn="02", tck="69"),
         "RFID - ISO 14443 Type A - NXP Mifare card with 4k EEPROM"),
        (PART3.format(ss="03", nn="03", tck="68"),
         "RFID - ISO 14443 Type A - NXP Mifare Ultralight or UltralightC"),
        ("3B 81 80 01 80 80", "RFID - ISO 14443 Type A - NXP DESFire or DESFire EV1 or EV2"),
        ("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 FF 20 00 00 00 00 B4",
         "MIFARE DESFire EV3 4K (Other)"),
        (PART3.format(ss="0A", nn="1C", tck="7E"), "RFID - HID iCLASS 16K CL"),
        ("3B 87 80 01 C1 05 2F 2F 01 BC D6 A9", "RFID - ISO 14443 Type A - NXP Mifare Plus"),
        (PART3.format(ss="0B", nn="14", tck="77"), "Philips ICode"),
        # no exact entry: only the ".." pattern "... 06 .. 00 01 00 00 00 00 .." matches
        (PART3.format(ss="11", nn="01", tck="00"), "MIFARE Classic 1K (as per PCSC std part3)"),
        # a character class pattern: "3B 3B 11 00 80 69 AF 03 0C 01 6F 83 0[01] 90 00"
        ("3B 3B 11 00 80 69 AF 03 0C 01 6F 83 01 90 00", None),
    ],
)
def test_card_type_from_atr(atr_list: AtrList, atr: str, card_type: str | None) -> None:
    entry = atr_list.lookup(atr)
    assert entry is not None
    if card_type is not None:
        assert entry.card_type == card_type
    assert atr_list.card_type(bytes.fromhex(atr.replace(" ", ""))) == entry.card_type


def test_character_class_pattern_matches_only_its_class(atr_list: AtrList) -> None:
    inside = atr_list.lookup("3B 3B 11 00 80 69 AF 03 0C 01 6F 83 01 90 00")
    outside = atr_list.lookup("3B 3B 11 00 80 69 AF 03 0C 01 6F 83 02 90 00")
    assert inside is not None
    assert inside.pattern == "3B 3B 11 00 80 69 AF 03 0C 01 6F 83 0[01] 90 00"
    assert outside is None or outside.pattern != inside.pattern


def test_unknown_atr_has_no_type(atr_list: AtrList) -> None:
    assert atr_list.card_type("3B 01 02") is None


def test_most_specific_entry_wins() -> None:
    text = "3B .. 01\n\tgeneric\n\n3B 02 ..\n\tless generic? no, same\n\n3B 02 01\n\texact\n"
    atr_list = AtrList(parse_atr_list(text))
    assert atr_list.card_type("3B 02 01") == "exact"
    assert atr_list.card_type("3B 05 01") == "generic"
    assert atr_list.card_type("3B 02 07") == "less generic? no, same"


def test_description_lines_after_a_blank_line_stay_with_their_entry() -> None:
    entries = parse_atr_list("3B 01\n\tname\n\n\tmore about it\n3B 02\n\tother\n")
    assert [(e.pattern, e.descriptions) for e in entries] == [
        ("3B 01", ("name", "more about it")),
        ("3B 02", ("other",)),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\torphan description\n", ":1: description line outside"),
        ("3B 01\n\tok\nnot an atr\n", ":3: 'not an atr' is not an ATR pattern"),
        ("3B [01\n\tbroken\n", ":1: '3B [01'"),
    ],
)
def test_malformed_list_names_file_and_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        parse_atr_list(text, "list.txt")


def test_format_atr_accepts_bytes_and_text() -> None:
    assert format_atr(b"\x3b\x81\x80\x01\x80\x80") == "3B 81 80 01 80 80"
    assert format_atr("3b:81:80:01:80:80") == "3B 81 80 01 80 80"


def test_debian_list_with_comma_classes_loads() -> None:
    """Debian 12's pcsc-tools list writes classes as ``3[1,3]``; the deployed kiosk reads it."""
    atr_list = AtrList(parse_atr_list("3B 39 19 00 53 4F 3[1,3]\n\tSOMA card\n"))
    assert atr_list.card_type("3B 39 19 00 53 4F 33") == "SOMA card"
    assert atr_list.card_type("3B 39 19 00 53 4F 32") is None
    debian = Path("/usr/share/pcsc/smartcard_list.txt")
    if debian.exists():
        assert len(AtrList.from_file(debian)) > 1000
