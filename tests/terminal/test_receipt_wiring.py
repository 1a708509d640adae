"""The kiosk's receipt printer: the [receipt] table's errors (each naming the file, the
key and the value), the wiring that gives the terminal a ``receipt_printer`` (None
without [receipt]), and a receipt printed through it -- to a file target and to a TCP
listener on 127.0.0.1 standing in for a network printer -- parsed back from the bytes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from terminal.adapters import EscposReceiptPrinter
from terminal.config import ConfigError, parse_kiosk_config
from terminal.fakes import FakeReceiptPrinter
from terminal.ports import ReceiptPrinter
from terminal.receipts import Receipt, ReceiptPrinterError
from terminal.wiring import build_terminal, check_kiosk_file
from tests.drivers.receipt.escpos_bytes import (
    StandInPrinter,
    native_qr_payloads,
    printed_text,
    raster_images,
    scanned,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "kiosk-mfp.toml"

RECEIPT = Receipt(
    title="Crédit ajouté",
    lines=(("Bon", "LIB-…-HW"), ("Crédité", "5,00 €"), ("Nouveau solde", "12,50 €")),
    footer="Merci",
)


def kiosk_data(tmp_path: Path, **receipt: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "terminal": {"name": "kiosk 1", "timezone": "Europe/Paris"},
        "backend": {"url": "http://127.0.0.1:9"},
        "card_reader": {"type": "simulated"},
        "printer": {"name": "MFP"},
        "offline": {"state_dir": str(tmp_path / "state")},
    }
    if receipt:
        data["receipt"] = receipt
    return data


def problems_of(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    """What the kiosk's start (and doctor) says about the file: keys and the driver."""
    path = tmp_path / "kiosk.toml"
    lines = []
    for table, values in data.items():
        lines.append(f"[{table}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return check_kiosk_file(path)[1]


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else repr(value)


def test_the_receipt_table_names_every_bad_key(tmp_path: Path) -> None:
    data = kiosk_data(tmp_path, target="network:127.0.0.1", native_qr="yes", paper="80mm",
                      timeout_s=600)
    with pytest.raises(ConfigError) as caught:
        parse_kiosk_config(data, "kiosk.toml")
    assert sorted(caught.value.problems) == [
        "kiosk.toml: receipt.native_qr: 'yes' is not true or false",
        "kiosk.toml: receipt.paper: '80mm' is not a known key (allowed here: native_qr, "
        "profile, target, timeout_s)",
        "kiosk.toml: receipt.timeout_s: 600 is not a number of seconds between 0.5 and 60",
    ]
    with pytest.raises(ConfigError, match=r"receipt.target: is required but missing"):
        parse_kiosk_config(kiosk_data(tmp_path, profile="TM-T88III"), "kiosk.toml")


def test_target_and_profile_are_judged_with_the_other_sections_problems(
        tmp_path: Path) -> None:
    """A misspelt target or profile stops the kiosk at start (and fails doctor), reported
    beside another section's problem, each naming key and value."""
    data = kiosk_data(tmp_path, target="network:printer:ipp", profile="TM-T88")
    data["printer"]["cups_port"] = 70000
    problems = problems_of(tmp_path, data)
    assert problems[0] == ("kiosk.toml: printer.cups_port: 70000 is not an integer between "
                           "1 and 65535")
    assert problems[1].startswith(
        "kiosk.toml: receipt.target: 'network:printer:ipp' has a port that is not a "
        "number between 1 and 65535; expected usb:VID:PID (hex, e.g. usb:04b8:0202), "
        "network:HOST[:PORT]")
    assert problems[2].startswith("kiosk.toml: receipt.profile: 'TM-T88' is not a "
                                  "python-escpos printer profile; known: ")
    assert len(problems) == 3
    assert problems_of(tmp_path, kiosk_data(tmp_path, target="usb:04b8:0202",
                                            profile="TM-T88III")) == []


def test_the_shipped_example_is_valid_once_uncommented() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    block = re.search(r"^# \[receipt\]\n((?:# [a-z_]+ = .*\n)+)", text, re.M)
    assert block is not None, "config/kiosk-mfp.toml has no commented [receipt] example"
    uncommented = text.replace(block[0], block[0].replace("# ", "", 1).replace("\n# ", "\n"))
    data = tomllib.loads(uncommented)
    assert data["receipt"] == {"target": "network:192.0.2.60:9100", "profile": "TM-T88III",
                               "native_qr": True, "timeout_s": 10}
    data["card_reader"] = {"type": "simulated"}
    config = parse_kiosk_config(data, SHIPPED.name)
    assert config.receipt is not None and config.receipt.native_qr
    # parsed only: nothing is sent to that documentation address


def test_without_a_receipt_table_the_terminal_has_no_receipt_printer(tmp_path: Path) -> None:
    terminal = build_terminal(parse_kiosk_config(kiosk_data(tmp_path), "kiosk.toml"), "t")
    try:
        assert terminal.receipt_printer is None
    finally:
        terminal.close()


def test_a_receipt_printed_through_the_wiring_reaches_the_file_target(
        tmp_path: Path) -> None:
    out = tmp_path / "receipt-printer.bin"
    config = parse_kiosk_config(
        kiosk_data(tmp_path, target=f"file:{out}", profile="TM-T88III"), "kiosk.toml")
    terminal = build_terminal(config, "token")
    try:
        printer = terminal.receipt_printer
        assert isinstance(printer, EscposReceiptPrinter)
        printer.print_receipt(RECEIPT)
    finally:
        terminal.close()
    lines = printed_text(out.read_bytes())
    assert lines[0] == "Crédit ajouté"
    assert "Crédité" + " " * 29 + "5,00 €" in lines
    assert "Nouveau solde" + " " * 22 + "12,50 €" in lines
    assert "Merci" in lines
    assert native_qr_payloads(out.read_bytes()) == []  # this receipt carries no QR code


def test_native_qr_false_sends_a_receipts_qr_code_as_an_image(tmp_path: Path) -> None:
    out = tmp_path / "receipt-printer.bin"
    config = parse_kiosk_config(
        kiosk_data(tmp_path, target=f"file:{out}", profile="TM-T88III", native_qr=False),
        "kiosk.toml")
    terminal = build_terminal(config, "token")
    try:
        assert terminal.receipt_printer is not None
        terminal.receipt_printer.print_receipt(Receipt("Receipt", (("Ref", "TX-1"),),
                                                       qr="TX-1"))
    finally:
        terminal.close()
    raw = out.read_bytes()
    assert native_qr_payloads(raw) == []
    assert [scanned(image) for image in raster_images(raw)] == [["TX-1"]]


def test_a_network_receipt_printer_gets_the_receipt_over_tcp(tmp_path: Path) -> None:
    stand_in = StandInPrinter()
    try:
        config = parse_kiosk_config(
            kiosk_data(tmp_path, target=f"network:127.0.0.1:{stand_in.port}",
                       profile="TM-T88III"), "kiosk.toml")
        terminal = build_terminal(config, "token")
        try:
            assert terminal.receipt_printer is not None
            terminal.receipt_printer.print_receipt(RECEIPT)
            terminal.receipt_printer.print_receipt(RECEIPT)  # opened again for each one
        finally:
            terminal.close()
        jobs = stand_in.wait_for_jobs(2)
    finally:
        stand_in.close()
    assert len(jobs) == 2
    assert all(printed_text(job)[0] == "Crédit ajouté" for job in jobs)


def test_an_unreachable_printer_is_a_receipt_printer_error_with_the_reason(
        tmp_path: Path) -> None:
    printer: ReceiptPrinter = EscposReceiptPrinter(f"file:{tmp_path}/gone/lp0",
                                                   profile="TM-T88III")
    with pytest.raises(ReceiptPrinterError) as caught:
        printer.print_receipt(RECEIPT)
    assert str(caught.value) == (f"receipt printer file:{tmp_path}/gone/lp0: no such file "
                                 "or folder")
    assert caught.value.__cause__ is not None  # the driver's error, chained


def test_the_fake_records_receipts_and_fails_on_demand() -> None:
    fake = FakeReceiptPrinter()
    printer: ReceiptPrinter = fake
    printer.print_receipt(RECEIPT)
    assert fake.printed == [RECEIPT]
    fake.failure = "receipt printer usb:04b8:0202: not found"
    with pytest.raises(ReceiptPrinterError, match="not found"):
        printer.print_receipt(RECEIPT)
    assert fake.printed == [RECEIPT]


def test_a_receipt_needs_a_title_and_label_value_rows() -> None:
    with pytest.raises(ValueError, match="needs a title"):
        Receipt(" ", ())
    with pytest.raises(ValueError, match="expected a \\(label, value\\) pair"):
        Receipt("Receipt", (("only a label",),))  # type: ignore[arg-type]
