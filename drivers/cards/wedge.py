"""Keyboard-wedge (USB HID) card readers through evdev: a thin adapter around the decoder.

The reader is grabbed exclusively (``EVIOCGRAB``) so the card number is never typed into
the kiosk UI or a console, and so that only this process sees it. The device is chosen by
path (``/dev/input/by-id/...``), by ``vendor:product`` in hex, or by its exact name; the
udev rule in ``systemd/99-printkiosk-card-reader.rules`` gives it a stable path and lets the
kiosk user open it. When the reader is unplugged (read fails with ENODEV) the adapter
forgets the partial read and looks for the device again every ``reopen_s`` seconds.

evdev is imported lazily inside the functions that need it, so importing this module works
on machines without evdev; :meth:`WedgeCardReader.is_usable` tells whether it can run.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import select
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from drivers.cards.events import (
    CardRead,
    ChangeReporter,
    Debouncer,
    EventCallback,
    ReadCallback,
    ReaderChange,
    ReaderThread,
    deliver,
)
from drivers.cards.wedge_decoder import EventItem, Terminator, WedgeDecoder

log = logging.getLogger(__name__)

_VENDOR_PRODUCT = re.compile(r"([0-9A-Fa-f]{4}):([0-9A-Fa-f]{4})")
_POLL_S = 0.1


@dataclass(frozen=True)
class DeviceSpec:
    """How the configuration names the reader: by path, by vendor:product, or by name."""

    kind: Literal["path", "vendor_product", "name"]
    value: str

    @classmethod
    def parse(cls, text: str) -> DeviceSpec:
        text = text.strip()
        if not text:
            raise ValueError("card reader device is empty: give a path, vendor:product or name")
        if text.startswith("/"):
            return cls("path", text)
        if _VENDOR_PRODUCT.fullmatch(text):
            return cls("vendor_product", text.lower())
        return cls("name", text)


@dataclass(frozen=True)
class DeviceInfo:
    """What identifies an input device, as listed by evdev."""

    path: str
    name: str
    vendor: int
    product: int


def find_device(spec: DeviceSpec, devices: Iterable[DeviceInfo]) -> DeviceInfo | None:
    """The first device the spec names, or None; a path also matches through symlinks."""
    for device in devices:
        if spec.kind == "path":
            if os.path.realpath(spec.value) == os.path.realpath(device.path):
                return device
        elif spec.kind == "vendor_product":
            if f"{device.vendor:04x}:{device.product:04x}" == spec.value:
                return device
        elif device.name == spec.value:
            return device
    return None


class InputDeviceLike(Protocol):
    """The part of ``evdev.InputDevice`` the adapter uses."""

    path: str

    def fileno(self) -> int: ...

    def read(self) -> Iterable[EventItem]: ...

    def grab(self) -> None: ...

    def close(self) -> None: ...


def _evdev_devices() -> Sequence[DeviceInfo]:
    import evdev

    found = []
    for path in evdev.list_devices():
        try:
            device = evdev.InputDevice(path)
        except OSError:
            continue
        try:
            found.append(DeviceInfo(path, device.name, device.info.vendor, device.info.product))
        finally:
            device.close()
    return found


def open_evdev_device(spec: DeviceSpec) -> InputDeviceLike | None:
    """Open the device the spec names, if it is plugged in."""
    import evdev

    info = find_device(spec, _evdev_devices())
    if info is None:
        return None
    device: Any = evdev.InputDevice(info.path)
    return device  # type: ignore[no-any-return]


class WedgeCardReader:
    """Card reads from a keyboard-wedge reader, delivered from a background thread."""

    def __init__(
        self,
        device: str,
        *,
        terminator: Terminator = "enter",
        pause_s: float = 0.5,
        prefix: str = "",
        suffix: str = "",
        debounce_s: float = 2.0,
        reopen_s: float = 1.0,
        on_change: EventCallback | None = None,
        open_device: Callable[[DeviceSpec], InputDeviceLike | None] = open_evdev_device,
    ) -> None:
        self._spec = DeviceSpec.parse(device)
        self._decoder = WedgeDecoder(
            terminator=terminator, pause_s=pause_s, prefix=prefix, suffix=suffix
        )
        self._debouncer = Debouncer(debounce_s)
        self._reopen_s = reopen_s
        self._change = ChangeReporter(on_change)
        self._open_device = open_device
        self._worker = ReaderThread("wedge-card-reader", "wedge card reader")
        self._stop = self._worker.stopping

    @staticmethod
    def is_usable() -> bool:
        """True when evdev imports and the machine has input devices to read."""
        try:
            import evdev  # noqa: F401
        except ImportError:
            return False
        return os.path.isdir("/dev/input")

    def start(self, on_read: ReadCallback) -> None:
        self._worker.start(lambda: self._run(on_read))

    def stop(self) -> None:
        self._worker.stop()

    def _run(self, on_read: ReadCallback) -> None:
        while not self._stop.is_set():
            device = self._open()
            if device is None:
                self._stop.wait(self._reopen_s)
                continue
            self._change(ReaderChange.READER_ADDED, device.path)
            try:
                self._read_until_gone(device, on_read)
            finally:
                device.close()
                self._decoder.reset()

    def _open(self) -> InputDeviceLike | None:
        try:
            device = self._open_device(self._spec)
        except OSError as exc:
            log.warning("cannot open card reader %s: %s", self._spec.value, exc)
            return None
        if device is None:
            return None
        try:
            device.grab()
        except OSError as exc:
            log.warning("cannot grab card reader %s (in use?): %s", device.path, exc)
            device.close()
            return None
        return device

    def _read_until_gone(self, device: InputDeviceLike, on_read: ReadCallback) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([device.fileno()], [], [], _POLL_S)
                if not ready:
                    self._accept(self._decoder.idle(time.time()), device.path, on_read)
                    continue
                for event in device.read():
                    self._accept(self._decoder.feed(event), device.path, on_read)
            except BlockingIOError:
                continue  # woken with nothing to read after all
            except OSError as exc:
                if exc.errno not in (errno.ENODEV, errno.EBADF, errno.EIO):
                    log.warning("card reader %s failed: %s", device.path, exc)
                self._change(ReaderChange.READER_REMOVED, device.path, str(exc))
                return

    def _accept(self, raw: str | None, path: str, on_read: ReadCallback) -> None:
        if raw is None or not self._debouncer.accept(raw):
            return
        deliver(on_read, CardRead(raw=raw, reader=path, card_type=None, at=time.time()))
