"""The receipt printer driver against what a printer would receive: the ESC/POS bytes
written to a file target and to a real TCP socket on 127.0.0.1 (a stand-in for a network
printer's raw port 9100), parsed back: the native QR payload from ``GS ( k``, the raster
``GS v 0`` image decoded into Pillow and read with pyzbar, the receipt's text lines."""

from __future__ import annotations

import re
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from drivers.receipt import (
    FileTarget,
    NetworkTarget,
    ReceiptPrinterUnavailable,
    ReceiptTargetError,
    UsbTarget,
    open_receipt_printer,
    parse_target,
    print_receipt,
    print_voucher_card,
)

CODE = "LIB-7K3M-Q9XA-2BFD-HW"
LINES = ["Library, Main Campus", "€5.00", "Valid until 30 June 2027", "No. LIB 17/500"]


def native_qr_payloads(raw: bytes) -> list[bytes]:
    """The data of every ``GS ( k`` "store QR data" (cn=1, fn=P, m=0) command."""
    payloads = []
    for match in re.finditer(rb"\x1d\(k(..)1P0", raw, re.S):
        length = int.from_bytes(match[1], "little") - 3  # cn, fn and m are counted
        payloads.append(raw[match.end():match.end() + length])
    return payloads


def raster_images(raw: bytes) -> list[Image.Image]:
    """Every ``GS v 0`` raster image as a Pillow image (1 bits are black dots)."""
    images = []
    for match in re.finditer(rb"\x1dv0(.)(..)(..)", raw, re.S):
        width_bytes, height = (int.from_bytes(match[i], "little") for i in (2, 3))
        data = raw[match.end():match.end() + width_bytes * height]
        images.append(Image.frombytes("1", (width_bytes * 8, height),
                                      bytes(255 - byte for byte in data)))
    return images


def scanned(image: Image.Image) -> list[str]:
    return [r.data.decode() for r in decode(image.convert("L"), symbols=[ZBarSymbol.QRCODE])]


def printed_text(raw: bytes, profile: str = "TM-T88III") -> list[str]:
    """The text lines of a job as the printer shows them: its ESC/GS commands removed,
    each run of bytes decoded in the code page the last ``ESC t n`` selected."""
    from escpos.capabilities import get_profile

    pages = get_profile(profile).codePages
    codec = "cp437"  # what ESC @ selects
    text = []
    for _command, page, plain in re.findall(
            rb"(\x1bt(.)|\x1b[@]|\x1b[!aEd].|\x1dV..|\x1d\(k..(?:1P0[^\x1d]*|[^\x1d]*))"
            rb"|([^\x1b\x1d]+)", raw, re.S):
        if page:
            codec = pages[str(page[0])].lower()
        elif plain:
            text.append(plain.decode(codec))
    return "".join(text).splitlines()


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


class StandInPrinter:
    """A TCP listener on 127.0.0.1 that keeps what each connection sent."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.jobs: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                chunks = []
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
                self.jobs.append(b"".join(chunks))

    def close(self) -> None:
        self.server.close()


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
    for _ in range(100):  # the listener has the job once it has read to the end
        if stand_in.jobs:
            break
        threading.Event().wait(0.05)
    [raw] = stand_in.jobs  # both cards on one connection
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
    assert message == (f"receipt printer network:127.0.0.1:{port}: 127.0.0.1:{port}: "
                       "connection refused (is the printer on, and is this its raw "
                       "printing port, usually 9100?)")
    assert caught.value.__cause__ is not None  # the escpos error is chained, not lost


def test_a_printer_that_drops_the_connection_mid_job_is_a_clear_error() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    dropped = threading.Event()

    def reset_at_once() -> None:
        connection, _ = server.accept()
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()  # RST: the printer is gone
        dropped.set()

    threading.Thread(target=reset_at_once, daemon=True).start()
    try:
        printer = open_receipt_printer(f"network:127.0.0.1:{server.getsockname()[1]}",
                                       profile="TM-T88III")
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
    assert str(caught.value) == (f"receipt printer {target}: {tmp_path}/no-such-folder/lp0: "
                                 "no such file or folder")


def test_a_usb_printer_that_is_not_plugged_in_is_a_clear_error() -> None:
    """pyusb over the real libusb: this machine has no such device."""
    with pytest.raises(ReceiptPrinterUnavailable) as caught:
        open_receipt_printer("usb:04b8:0202", profile="TM-T88III")
    assert str(caught.value) == ("receipt printer usb:04b8:0202: no USB device 04b8:0202 "
                                 "(is it plugged in and switched on?)")


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
