"""The grabbed 2D scanner: ``[voucher_scanner]`` validated and wired, and a QR scan fed as
the keyboard-wedge events a scanner sends (shifted capitals, dashes, Enter) arriving as
the card's display code, every time it is scanned."""

from __future__ import annotations

import queue
import re
import time
import tomllib
from pathlib import Path

import pytest

from billing.voucher_codes import new_code
from drivers.cards.wedge import DeviceSpec, WedgeCardReader
from terminal.adapters import WedgeCodeScanner
from terminal.config import parse_kiosk_config
from terminal.vouchers import assess
from terminal.wiring import build_voucher_scanner, load_checked_config
from tests.terminal.test_config import GOOD

pytest.importorskip("evdev.ecodes")
from tests.drivers.cards.wedge_pipe import PipeDevice  # after the skip: needs evdev

WAIT_S = 10


def test_a_qr_scan_arrives_as_the_display_code_every_time_it_is_scanned() -> None:
    code = new_code("LIB")
    device = PipeDevice("/dev/input/event5")
    opened: list[DeviceSpec] = []

    def open_device(spec: DeviceSpec) -> PipeDevice | None:
        if opened:
            return None
        opened.append(spec)
        return device

    scans: queue.Queue[str] = queue.Queue()
    scanner = WedgeCodeScanner(WedgeCardReader("05e0:1200", debounce_s=0, reopen_s=0.01,
                                               open_device=open_device))
    scanner.start(scans.put)
    try:
        now = int(time.time())
        device.type(code.display + "\n", now)
        first = scans.get(timeout=WAIT_S)
        device.type(code.display + "\n", now + 1)  # scanned again after a refusal
        second = scans.get(timeout=WAIT_S)
    finally:
        scanner.stop()
        device.unplug()
    assert first == second == code.display
    assert device.grabbed, "a grabbed scanner types into nothing else"
    judged = assess(first)
    assert (judged.status, judged.body) == ("valid", code.body)
    assert opened == [DeviceSpec("vendor_product", "05e0:1200")]


def test_the_scanner_table_is_wired(tmp_path: Path) -> None:
    """Bad tables are refused with their key (tests/terminal/test_config.py BAD_FILES)."""
    path = tmp_path / "kiosk.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert build_voucher_scanner(load_checked_config(path)) is None
    path.write_text(GOOD + '[voucher_scanner]\ndevice = "/dev/input/by-id/usb-scanner"\n'
                    "pause_s = 0.2\n", encoding="utf-8")
    scanner = build_voucher_scanner(load_checked_config(path))
    assert isinstance(scanner, WedgeCodeScanner)


def test_the_shipped_example_is_valid_once_uncommented() -> None:
    shipped = Path(__file__).resolve().parents[2] / "config" / "kiosk-mfp.toml"
    text = shipped.read_text(encoding="utf-8")
    block = re.search(r"^# \[voucher_scanner\]\n((?:# [a-z_]+ = .*\n)+)", text, re.M)
    assert block is not None, "config/kiosk-mfp.toml has no commented [voucher_scanner]"
    data = tomllib.loads(text.replace(block[0], block[0].replace("# ", "", 1)
                                      .replace("\n# ", "\n")))
    data["card_reader"] = {"type": "simulated"}
    config = parse_kiosk_config(data, shipped.name)
    assert config.voucher_scanner is not None
    assert config.voucher_scanner.device == "/dev/input/printkiosk-voucher-scanner"
