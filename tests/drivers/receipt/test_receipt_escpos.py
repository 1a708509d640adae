"""The receipt printer driver against what a printer would receive: the ESC/POS bytes
written to a file target and to a real TCP socket on 127.0.0.1 (a stand-in for a network
printer's raw port 9100), parsed back: the native QR payload from ``GS ( k``, the raster
``GS v 0`` image decoded into Pillow and read with pyzbar, the receipt's text lines."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.receipt import (
    FileTarget,
    NetworkTarget,
    ReceiptPrinterUnavailable,
    ReceiptTargetError,
    UsbTarget,
    draws_qr_codes,
    open_receipt_printer,
    parse_target,
    print_receipt,
    print_voucher_card,
    probe_receipt_printer,
)
from tests.drivers.receipt.escpos_bytes import (
    StandInPrinter,
    native_qr_payloads,
    printed_text,
    raster_images,
    scanned,
)

CODE = "LIB-7K3M-Q9XA-2BFD-HW"
LINES = ["Library, Main Campus", "€5.00", "Valid until 30 June 2027", "No. LIB 17/500"]


def test_native_qr_payload_is_the_code(tmp_path: Path) -> None:
    out = tmp_path / "printer.bin"
    with open_receipt_printer(f"file:{out}", profile="TM-T88III") as printer:
        print_voucher_card(printer, code=CODE, lines=LINES)
    raw = out.read_bytes()
    assert native_qr_payloads(raw) == [CODE.encode()]
    assert b"\x1d(k\x03\x001E1" in raw  # error correction M
    assert raster_images(raw) == []
    text = printed_text(raw)
    for line in LINES:
        assert any(line in printed for printed in text), line
    assert raw.count(CODE.encode()) == 2  # in the QR code and printed to type from


def test_raster_qr_is_an_image_that_scans_as_the_code(tmp_path: Path) -> None:
    out = tmp_path / "printer.bin"
    with open_receipt_printer(f"file:{out}", profile="TM-T88III") as printer:
        print_voucher_card(printer, code=CODE, lines=LINES, native_qr=False)
    raw = out.read_bytes()
    assert native_qr_payloads(raw) == []
    [image] = raster_images(raw)
    assert scanned(image) == [CODE]
    assert image.width <= 512  # fits the TM-T88III's 80 mm paper
    # the quiet zone is there: the image's outer 4 modules (8 dots each) are all white
    border = image.convert("L").crop((0, 0, image.width, 32))
    assert border.getextrema() == (255, 255)


def test_a_printer_without_native_qr_gets_the_raster_image(tmp_path: Path) -> None:
    """POS-5890 (58 mm) has no GS ( k: native_qr=True still prints a scannable image."""
    out = tmp_path / "printer.bin"
    with open_receipt_printer(f"file:{out}", profile="POS-5890") as printer:
        print_voucher_card(printer, code=CODE, lines=LINES, native_qr=True)
    raw = out.read_bytes()
    assert native_qr_payloads(raw) == []
    [image] = raster_images(raw)
    assert image.width <= 384
    assert scanned(image) == [CODE]


def test_a_printer_with_neither_qr_nor_images_is_refused_before_printing(
        tmp_path: Path) -> None:
    out = tmp_path / "printer.bin"
    with open_receipt_printer(f"file:{out}", profile="TM-U220") as printer, \
            pytest.raises(ReceiptTargetError, match="neither a QR code nor a raster"):
        print_voucher_card(printer, code=CODE, lines=LINES)
    assert out.read_bytes() == b""  # nothing half-printed


def test_receipt_rows_are_aligned_to_the_paper_width(tmp_path: Path) -> None:
    out = tmp_path / "printer.bin"
    with open_receipt_printer(f"file:{out}", profile="TM-T88III") as printer:
        print_receipt(printer, "Crédit ajouté",
                      [("Bon", "5,00 €"), ("Nouveau solde", "12,50 €"),
                       ("Référence", "LIB-7K3M-Q9XA-2BFD-HW / borne Bibliothèque 1")],
                      "Merci")
    lines = printed_text(out.read_bytes())
    assert lines[0] == "Crédit ajouté"
    assert lines[1] == "-" * 42
    assert "Nouveau solde" + " " * 22 + "12,50 €" in lines
    assert all(len(line) <= 42 for line in lines)
    # too long to sit beside its label, or even to fit the paper: below it, wrapped,
    # right-aligned
    index = lines.index("Référence")
    assert lines[index + 1:index + 3] == ["LIB-7K3M-Q9XA-2BFD-HW / borne Bibliothèque",
                                          "1".rjust(42)]
    assert "Merci" in lines
    assert out.read_bytes().endswith(b"\x1dV\x00")  # full cut


@pytest.fixture
def stand_in() -> Iterator[StandInPrinter]:
    printer = StandInPrinter()
    yield printer
    printer.close()


def test_network_printer_receives_the_card_over_tcp(stand_in: StandInPrinter) -> None:
    with open_receipt_printer(f"network:127.0.0.1:{stand_in.port}",
                              profile="TM-T88III") as printer:
        print_voucher_card(printer, code=CODE, lines=LINES)
        print_voucher_card(printer, code="LIB-0000-0000-0000-00", lines=LINES,
                           native_qr=False)
    [raw] = stand_in.wait_for_jobs()  # both cards on one connection
    assert native_qr_payloads(raw) == [CODE.encode()]
    assert [scanned(image) for image in raster_images(raw)] == [["LIB-0000-0000-0000-00"]]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_network_printer_is_a_clear_error() -> None:
    port = _free_port()  # nothing listens there any more
    with pytest.raises(ReceiptPrinterUnavailable) as caught:
        open_receipt_printer(f"network:127.0.0.1:{port}", profile="TM-T88III")
    message = str(caught.value)
    assert message == (f"receipt printer network:127.0.0.1:{port}: connection refused "
                       "(is the printer on, and is this its raw printing port, usually "
                       "9100?)")
    assert caught.value.__cause__ is not None  # the escpos error is chained, not lost


def test_a_printer_that_drops_the_connection_mid_job_is_a_clear_error() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    opened, dropped = threading.Event(), threading.Event()

    def reset_once_opened() -> None:
        connection, _ = server.accept()
        opened.wait(10)  # mid-job: after the kiosk opened the printer (a reset during the
        # open is the "cannot be reached" case, and under load it raced this one)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()  # RST: the printer is gone
        dropped.set()

    threading.Thread(target=reset_once_opened, daemon=True).start()
    try:
        printer = open_receipt_printer(f"network:127.0.0.1:{server.getsockname()[1]}",
                                       profile="TM-T88III")
        opened.set()
        assert dropped.wait(5)
        threading.Event().wait(0.1)
        with printer, pytest.raises(ReceiptPrinterUnavailable, match="stopped taking data"):
            for _ in range(20):  # the first write may still fit the kernel's buffer
                print_voucher_card(printer, code=CODE, lines=LINES, native_qr=False)
    finally:
        server.close()


def test_a_file_target_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    target = f"file:{tmp_path}/no-such-folder/lp0"
    with pytest.raises(ReceiptPrinterUnavailable) as caught:
        open_receipt_printer(target, profile="TM-T88III")
    assert str(caught.value) == f"receipt printer {target}: no such file or folder"


def test_a_usb_printer_that_is_not_plugged_in_is_a_clear_error() -> None:
    """pyusb over the real libusb: this machine has no such device."""
    with pytest.raises(ReceiptPrinterUnavailable) as caught:
        open_receipt_printer("usb:04b8:0202", profile="TM-T88III")
    assert str(caught.value) == ("receipt printer usb:04b8:0202: not found (is it plugged "
                                 "in and switched on?)")


@pytest.mark.parametrize(("text", "target"), [
    ("usb:04b8:0202", UsbTarget(0x04B8, 0x0202)),
    ("usb:04B8:0E15", UsbTarget(0x04B8, 0x0E15)),
    ("network:192.0.2.60", NetworkTarget("192.0.2.60", 9100)),
    ("network:printer-1.example.org:9101", NetworkTarget("printer-1.example.org", 9101)),
    ("file:/dev/usb/lp0", FileTarget(Path("/dev/usb/lp0"))),
])
def test_target_strings(text: str, target: object) -> None:
    assert parse_target(text) == target
    assert parse_target(str(target)) == target


@pytest.mark.parametrize(("text", "why"), [
    ("usb:4b8:202", "is not a USB vendor:product pair of 4 hex digits each"),
    ("usb:04b8", "is not a USB vendor:product pair"),
    ("network:", "has no valid host name"),
    ("network:printer:0", "has a port that is not a number between 1 and 65535"),
    ("network:printer:ipp", "has a port that is not a number"),
    ("network:[::1]:9100", "has an IPv6 address"),
    ("file:lp0", "does not give an absolute path"),
    ("serial:/dev/ttyS0", "does not start with usb:, network: or file:"),
])
def test_bad_target_strings_say_what_is_allowed(text: str, why: str) -> None:
    with pytest.raises(ReceiptTargetError) as caught:
        parse_target(text)
    assert str(caught.value).startswith(f"{text!r} {why}")
    assert "usb:VID:PID" in str(caught.value)


def test_an_unknown_profile_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ReceiptTargetError, match=r"'TM-T88' is not a python-escpos printer "
                                                 r"profile; known: .*TM-T88III"):
        open_receipt_printer(f"file:{tmp_path / 'out.bin'}", profile="TM-T88")
    assert not (tmp_path / "out.bin").exists()  # nothing opened


def test_importing_the_driver_loads_no_escpos() -> None:
    """escpos writes a capabilities cache when imported: the import of the driver must not."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, drivers.receipt; "
         "print(sorted(m for m in sys.modules if m.split('.')[0] in ('escpos', 'usb')))"],
        capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_receipt_can_carry_a_qr_code_native_or_raster(tmp_path: Path) -> None:
    out = tmp_path / "printer.bin"
    with open_receipt_printer(f"file:{out}", profile="TM-T88III") as printer:
        print_receipt(printer, "Voucher redeemed", [("Credited", "€5.00")], "Thank you",
                      qr="TX-123")
        print_receipt(printer, "Voucher redeemed", [("Credited", "€5.00")], "Thank you",
                      qr="TX-124", native_qr=False)
        print_receipt(printer, "Voucher redeemed", [("Credited", "€5.00")])
    raw = out.read_bytes()
    assert native_qr_payloads(raw) == [b"TX-123"]
    assert [scanned(image) for image in raster_images(raw)] == [["TX-124"]]


def test_probing_reaches_a_network_printer_and_prints_nothing(
        stand_in: StandInPrinter) -> None:
    probe_receipt_printer(f"network:127.0.0.1:{stand_in.port}", profile="TM-T88III")
    assert stand_in.wait_for_jobs() == [b""]  # connected, sent nothing
    port = _free_port()
    with pytest.raises(ReceiptPrinterUnavailable, match="connection refused"):
        probe_receipt_printer(f"network:127.0.0.1:{port}")


def test_probing_a_file_target_never_empties_it(tmp_path: Path) -> None:
    out = tmp_path / "printer.bin"
    out.write_bytes(b"yesterday's receipts")
    probe_receipt_printer(f"file:{out}", profile="TM-T88III")
    probe_receipt_printer(f"file:{tmp_path / 'new.bin'}")  # may be created at first print
    assert out.read_bytes() == b"yesterday's receipts"
    assert not (tmp_path / "new.bin").exists()
    with pytest.raises(ReceiptPrinterUnavailable, match="no such file or folder"):
        probe_receipt_printer(f"file:{tmp_path}/missing/lp0")
    with pytest.raises(ReceiptTargetError, match="not a python-escpos printer profile"):
        probe_receipt_printer(f"file:{out}", profile="TM-T88")


def test_which_printers_draw_qr_codes_themselves() -> None:
    assert draws_qr_codes("TM-T88III")
    assert not draws_qr_codes("POS-5890")
    assert draws_qr_codes(None)  # escpos's default profile: a generic Epson
