"""The desk's receipt printer adapter (backend.cash_desk_receipts): the target forms,
the ESC/POS bytes read back, a network printer's raw port (a TCP stand-in on 127.0.0.1),
a printer that is not there translated, and the setting checked when the config loads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from backend.cash_desk_receipts import (
    ReceiptLines,
    ReceiptPrinterError,
    escpos_bytes,
    parse_printer,
    pdf,
    print_receipt,
)
from backend.config import BackendConfig
from tests.drivers.receipt.escpos_bytes import StandInPrinter, printed_text

RECEIPT = ReceiptLines("Cash desk receipt", [("Receipt", "R-000007"), ("Amount", "€12.50"),
                                             ("User", "Zoé Dupont (zoe)")])


def test_targets_are_a_file_or_a_tcp_port() -> None:
    assert parse_printer("file:/dev/usb/lp0") == ("file", "/dev/usb/lp0", 0)
    assert parse_printer("tcp:192.0.2.60:9100") == ("tcp", "192.0.2.60", 9100)
    for bad in ("lp0", "file:relative", "tcp:host", "tcp:host:0", "tcp::9100", "usb:1:2"):
        with pytest.raises(ValueError, match="file:/absolute/path or tcp:HOST:PORT"):
            parse_printer(bad)


def test_a_bad_printer_setting_is_refused_when_the_config_loads() -> None:
    with pytest.raises(ValidationError, match="tcp:HOST:PORT"):
        BackendConfig.model_validate({"web": {"cash_desk": {"receipt_printer": "lp0"}}})


def test_escpos_bytes_read_back_as_the_receipt_lines() -> None:
    raw = escpos_bytes(RECEIPT)
    lines = [line.strip() for line in printed_text(raw) if line.strip()]
    assert lines[0] == "Cash desk receipt"
    assert lines[1].startswith("Receipt") and lines[1].endswith("R-000007")
    assert lines[2].startswith("Amount") and lines[2].endswith("12.50")
    assert lines[3].endswith("Zoé Dupont (zoe)")
    assert b"\x1dV" in raw  # cut


def test_a_network_printer_gets_the_job_on_its_raw_port() -> None:
    printer = StandInPrinter()
    try:
        print_receipt(f"tcp:127.0.0.1:{printer.port}", escpos_bytes(RECEIPT))
        jobs = printer.wait_for_jobs(1)
        assert "Cash desk receipt" in printed_text(jobs[0])[0]
    finally:
        printer.close()


def test_a_printer_that_is_not_there_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReceiptPrinterError, match="receipt printer file:"):
        print_receipt(f"file:{tmp_path}/missing/lp0", b"x")
    with pytest.raises(ReceiptPrinterError, match=r"receipt printer tcp:127\.0\.0\.1:9"):
        print_receipt("tcp:127.0.0.1:9", b"x", timeout_s=1)


def test_the_pdf_has_the_lines() -> None:
    import subprocess

    out = subprocess.run(["pdftotext", "-", "-"], input=pdf(RECEIPT), capture_output=True,
                         check=True).stdout.decode()
    assert "R-000007" in out and "€12.50" in out and "Zoé Dupont (zoe)" in out
