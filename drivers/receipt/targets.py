"""Where a receipt printer is, written as one string: ``usb:VID:PID``,
``network:HOST[:PORT]`` or ``file:/path``.

One string fits a TOML key and a command-line option alike. ``file:`` is both the way to
a printer behind the kernel's usblp driver (``file:/dev/usb/lp0``) and the target tests
use to read back what would have been printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from drivers.receipt.errors import ReceiptTargetError

DEFAULT_PORT = 9100  # the raw ("JetDirect") port of network receipt printers
FORMS = "usb:VID:PID (hex, e.g. usb:04b8:0202), network:HOST[:PORT] (e.g. " \
        "network:192.0.2.60:9100) or file:/path (e.g. file:/dev/usb/lp0)"

_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


@dataclass(frozen=True)
class UsbTarget:
    vendor: int
    product: int

    def __str__(self) -> str:
        return f"usb:{self.vendor:04x}:{self.product:04x}"


@dataclass(frozen=True)
class NetworkTarget:
    host: str
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        return f"network:{self.host}:{self.port}"


@dataclass(frozen=True)
class FileTarget:
    path: Path

    def __str__(self) -> str:
        return f"file:{self.path}"


ReceiptTarget = UsbTarget | NetworkTarget | FileTarget


def _bad(text: str, why: str) -> ReceiptTargetError:
    return ReceiptTargetError(f"{text!r} {why}; expected {FORMS}")


def parse_target(text: str) -> ReceiptTarget:
    """The printer a target string names; a :class:`ReceiptTargetError` saying what is
    wrong and what is allowed otherwise."""
    if not isinstance(text, str):
        raise _bad(repr(text), "is not a text string")
    kind, _, rest = text.strip().partition(":")
    if kind == "usb":
        ids = rest.split(":")
        if len(ids) != 2 or not all(_HEX4.fullmatch(part) for part in ids):
            raise _bad(text, "is not a USB vendor:product pair of 4 hex digits each")
        return UsbTarget(int(ids[0], 16), int(ids[1], 16))
    if kind == "network":
        host, colon, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
        if ":" in host or host.startswith("["):
            raise _bad(text, "has an IPv6 address, which python-escpos cannot reach")
        if not _HOST.fullmatch(host):
            raise _bad(text, "has no valid host name or IPv4 address")
        if colon and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise _bad(text, "has a port that is not a number between 1 and 65535")
        return NetworkTarget(host, int(port) if colon else DEFAULT_PORT)
    if kind == "file":
        if not rest.startswith("/"):
            raise _bad(text, "does not give an absolute path")
        return FileTarget(Path(rest))
    raise _bad(text, "does not start with usb:, network: or file:")
