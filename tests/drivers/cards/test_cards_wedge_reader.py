"""WedgeCardReader: device selection, exclusive grab, and reopening after an unplug.

Without /dev/uinput no real input device can be created here, so the adapter's loop runs
over a pipe carrying real ``struct input_event`` records (:mod:`wedge_pipe`); closing the
pipe's write end makes ``read()`` fail with ENODEV, which is what the kernel does when the
reader is unplugged.
"""

from __future__ import annotations

import queue
import time
from pathlib import Path

import pytest

from drivers.cards.events import CardRead, ReaderChange, ReaderEvent
from drivers.cards.wedge import DeviceInfo, DeviceSpec, WedgeCardReader, find_device

pytest.importorskip("evdev.ecodes")
from tests.drivers.cards.wedge_pipe import PipeDevice  # after the skip: needs evdev

WAIT_S = 10

DEVICES = [
    DeviceInfo("/dev/input/event3", "AT Translated Set 2 keyboard", 0x0001, 0x0001),
    DeviceInfo("/dev/input/event7", "HID c216:0180", 0xC216, 0x0180),
    DeviceInfo("/dev/input/event9", "RFIDeas USB Keyboard", 0x0C27, 0x3BFA),
]


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ("/dev/input/event9", "/dev/input/event9"),
        ("0c27:3bfa", "/dev/input/event9"),
        ("0C27:3BFA", "/dev/input/event9"),
        ("HID c216:0180", "/dev/input/event7"),
        ("RFIDeas USB Keyboard", "/dev/input/event9"),
        ("RFIDeas", None),  # names match exactly: a prefix could grab the wrong keyboard
        ("ffff:0001", None),
    ],
)
def test_device_chosen_by_path_vendor_product_or_name(spec: str, path: str | None) -> None:
    found = find_device(DeviceSpec.parse(spec), DEVICES)
    assert (found.path if found else None) == path


def test_path_spec_follows_symlinks(tmp_path: Path) -> None:
    link = tmp_path / "printkiosk-card-reader"
    link.symlink_to("/dev/input/event7")
    found = find_device(DeviceSpec.parse(str(link)), DEVICES)
    assert found is not None and found.path == "/dev/input/event7"


def test_empty_device_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="device is empty"):
        DeviceSpec.parse(" ")


def test_reader_reopens_after_unplug_and_drops_the_partial_read() -> None:
    first, second = PipeDevice("/dev/input/event7"), PipeDevice("/dev/input/event8")
    plugged: queue.Queue[PipeDevice | None] = queue.Queue()
    for device in (first, None, second):
        plugged.put(device)

    def open_device(spec: DeviceSpec) -> PipeDevice | None:
        assert spec == DeviceSpec("vendor_product", "c216:0180")
        try:
            return plugged.get_nowait()
        except queue.Empty:
            return None

    reads: queue.Queue[CardRead] = queue.Queue()
    changes: queue.Queue[ReaderEvent] = queue.Queue()
    reader = WedgeCardReader(
        "c216:0180", reopen_s=0.01, debounce_s=0, on_change=changes.put, open_device=open_device
    )
    now = int(time.time())
    reader.start(reads.put)
    try:
        first.type("1234\n", now)
        assert reads.get(timeout=WAIT_S).raw == "1234"
        assert first.grabbed
        first.type("56", now)  # card pulled away with the reader's cable
        first.unplug()
        second.type("78\n", now)
        read = reads.get(timeout=WAIT_S)
        assert (read.raw, read.reader) == ("78", "/dev/input/event8")
    finally:
        reader.stop()
        second.unplug()
    assert first.closed and second.closed
    seen = []
    while not changes.empty():
        event = changes.get_nowait()
        seen.append((event.change, event.reader))
    assert seen == [
        (ReaderChange.READER_ADDED, "/dev/input/event7"),
        (ReaderChange.READER_REMOVED, "/dev/input/event7"),
        (ReaderChange.READER_ADDED, "/dev/input/event8"),
    ]
