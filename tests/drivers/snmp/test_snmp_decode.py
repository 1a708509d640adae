"""The decoding rules on their own: hex-dump text, error bits, levels, colours, host parsing."""

from __future__ import annotations

import pytest

from drivers.snmp.decode import (
    colour_from_description,
    decode_error_bits,
    decode_text,
    level_percent,
)
from drivers.snmp.types import PrinterError
from printkiosk.commands.snmp import UsageError, split_host


@pytest.mark.parametrize(("raw", "text"), [
    (b"Black Toner", "Black Toner"),
    (b"Black Toner\x00\x00", "Black Toner"),
    # HP M880: 16 characters, then the rest as a wrapped hex dump ending in a NUL
    (bytes.fromhex("4D6167656E74612043617274726964670a363520323020333820333220333720343120"
                   "323020343820353020323020343320343620333320333020333320343120"
                   "0a303020"), "Magenta Cartridge 827A HP CF303A"),
    (b"Line one\nline two", "Line one\nline two"),  # a newline alone is not a hex dump
    (b"Caf\xe9", "Caf\u00e9"),  # not UTF-8: read as Latin-1
    (b"", ""),
])
def test_decode_text(raw: bytes, text: str) -> None:
    assert decode_text(raw) == text


def test_decode_text_of_a_non_string_is_none() -> None:
    assert decode_text(42) is None


@pytest.mark.parametrize(("raw", "errors"), [
    (b"", ()),
    (b"\x00", ()),
    (b"\x80", (PrinterError.LOW_PAPER,)),
    (b"\x40", (PrinterError.NO_PAPER,)),
    (b"\x20\x00", (PrinterError.LOW_TONER,)),
    (b"\x10", (PrinterError.NO_TONER,)),
    (b"\x08", (PrinterError.DOOR_OPEN,)),
    (b"\x04", (PrinterError.JAMMED,)),
    (b"\x02", (PrinterError.OFFLINE,)),
    (b"\x01\x00", (PrinterError.SERVICE_REQUESTED,)),
    (b"\x00\x80", (PrinterError.INPUT_TRAY_MISSING,)),
    (b"\x00\x40", (PrinterError.OUTPUT_TRAY_MISSING,)),
    (b"\x00\x20", (PrinterError.MARKER_SUPPLY_MISSING,)),
    (b"\x00\x10", (PrinterError.OUTPUT_NEAR_FULL,)),
    (b"\x00\x08", (PrinterError.OUTPUT_FULL,)),
    (b"\x00\x04", (PrinterError.INPUT_TRAY_EMPTY,)),
    (b"\x00\x02", (PrinterError.OVERDUE_PREVENT_MAINT,)),
    (b"\x00\x01", ()),  # bit 15 is not defined
    (b"\xc0\x00\xff", (PrinterError.LOW_PAPER, PrinterError.NO_PAPER)),  # extra octet ignored
])
def test_error_bits(raw: bytes, errors: tuple[PrinterError, ...]) -> None:
    assert decode_error_bits(raw) == errors


@pytest.mark.parametrize(("level", "maximum", "percent"), [
    (22050, 45000, 49), (28407, 30000, 95), (127066, 150000, 85), (1, 200, 1), (1, 201, 0),
    (0, 100, 0), (100, 100, 100),
])
def test_level_percent_rounds_half_up(level: int, maximum: int, percent: int) -> None:
    assert level_percent(level, maximum) == percent


@pytest.mark.parametrize(("description", "colour"), [
    ("CANON Matte Black Ink Tank", "matte black"), ("Toner (Cyan)", "cyan"),
    ("Light Magenta Ink", "light magenta"), ("PK-3010S", None), ("Blackout kit", None),
])
def test_colour_from_description(description: str, colour: str | None) -> None:
    assert colour_from_description(description) == colour


@pytest.mark.parametrize(("text", "host", "port"), [
    ("printer", "printer", 161), ("10.0.0.5:1161", "10.0.0.5", 1161),
    ("[fe80::1]", "fe80::1", 161), ("[fe80::1]:162", "fe80::1", 162), ("fe80::1", "fe80::1", 161),
])
def test_split_host(text: str, host: str, port: int) -> None:
    assert split_host(text) == (host, port)


@pytest.mark.parametrize("text", [":161", "host:0", "host:70000", "[::1]x", "host:"])
def test_split_host_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        split_host(text)
