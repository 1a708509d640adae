"""An InputDevice-shaped pipe carrying real ``struct input_event`` records.

Without /dev/uinput no real input device can be created here, so a wedge adapter's loop
runs over a pipe; closing the write end makes ``read()`` fail with ENODEV, which is what
the kernel does when the device is unplugged. Shared by the card-reader tests and the
voucher scanner's (terminal and UI): both read keyboard-wedge events.
"""

from __future__ import annotations

import errno
import os
import struct

from evdev import ecodes

EVENT = struct.Struct("llHHi")  # struct input_event on 64-bit Linux, as evdev reads it
_NAMED = {"\n": "ENTER", "-": "MINUS", " ": "SPACE"}


def key_records(text: str, sec: int) -> bytes:
    """What a US-layout keyboard wedge sends typing ``text``: a press and release per key,
    each followed by SYN, with left shift held around upper-case letters."""
    records = b""
    for usec, char in enumerate(text):
        code = ecodes.ecodes[f"KEY_{_NAMED.get(char, char.upper())}"]
        shifted = char.isalpha() and char.isupper()
        presses = [(code, 1), (code, 0)]
        if shifted:
            presses = [(ecodes.KEY_LEFTSHIFT, 1), *presses, (ecodes.KEY_LEFTSHIFT, 0)]
        for key, value in presses:
            records += EVENT.pack(sec, usec * 1000, ecodes.EV_KEY, key, value)
            records += EVENT.pack(sec, usec * 1000, ecodes.EV_SYN, 0, 0)
    return records


class PipeDevice:
    """An InputDevice-shaped reader of input_event records from a pipe."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._read_fd, self.write_fd = os.pipe()
        self.grabbed = False
        self.closed = False

    def fileno(self) -> int:
        return self._read_fd

    def grab(self) -> None:
        self.grabbed = True

    def read(self) -> list[tuple[int, int, int, int, int]]:
        data = os.read(self._read_fd, EVENT.size * 64)
        if not data:
            raise OSError(errno.ENODEV, "No such device")
        return [EVENT.unpack_from(data, offset) for offset in range(0, len(data), EVENT.size)]

    def close(self) -> None:
        self.closed = True
        os.close(self._read_fd)

    def type(self, text: str, sec: int) -> None:
        os.write(self.write_fd, key_records(text, sec))

    def unplug(self) -> None:
        os.close(self.write_fd)
