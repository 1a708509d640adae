"""Opening a receipt printer through python-escpos, and sending it a whole job at once.

A job (a voucher card, a receipt) is composed in memory first, on escpos's ``Dummy``
printer with the real printer's profile, and sent in one write. So composing can never
leave half a receipt on the paper, and the only errors left are the device's own: those
are translated here, at the library's edge, into :class:`ReceiptPrinterUnavailable` with
a reason an operator can act on (python-escpos wraps them in ``DeviceNotFoundError``
whose text is a traceback-like message; the original error is kept as the cause).

python-escpos (and pyusb, for ``usb:``) are imported inside the functions that use them:
importing this module opens nothing, writes nothing (escpos caches its capabilities file
when first imported) and works where they are missing; :func:`is_usable` tells.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import os
import socket
from typing import Any

from drivers.receipt.errors import ReceiptPrinterUnavailable, ReceiptTargetError
from drivers.receipt.targets import FileTarget, NetworkTarget, UsbTarget, parse_target

DEFAULT_TIMEOUT_S = 10.0
UDEV_RULE = "systemd/99-printkiosk-receipt-printer.rules"


def is_usable(target: str = "network:localhost") -> bool:
    """Whether the libraries this kind of target needs are installed (pyusb for usb:)."""
    if importlib.util.find_spec("escpos") is None:
        return False
    return not target.startswith("usb:") or importlib.util.find_spec("usb") is not None


def known_profiles() -> list[str]:
    """The printer models python-escpos has a profile for (its capabilities database)."""
    from escpos.capabilities import CAPABILITIES

    return sorted(CAPABILITIES["profiles"])


def check_profile(profile: str | None) -> str:
    """The profile name to use (``default`` for None); an error naming the known ones."""
    name = profile or "default"
    if name not in known_profiles():
        raise ReceiptTargetError(
            f"{profile!r} is not a python-escpos printer profile; known: "
            f"{', '.join(known_profiles())}")
    return name


def draws_qr_codes(profile: str | None) -> bool:
    """Whether the printer model draws QR codes itself (``GS ( k``); the others get a
    raster image of the code."""
    from escpos.capabilities import get_profile

    return bool(get_profile(check_profile(profile)).supports("qrCode"))


class ReceiptPrinterHandle:
    """An open receipt printer: its target, its profile and the escpos connection."""

    def __init__(self, target: str, profile: str, device: Any) -> None:
        self.target = target
        self.profile = profile
        self._device = device

    def new_job(self) -> Any:
        """An empty in-memory job (escpos ``Dummy``) with this printer's profile."""
        from escpos.printer import Dummy

        return Dummy(profile=self.profile)

    def send(self, job: Any) -> None:
        """Send a composed job in one write; a device error is translated."""
        data: bytes = job.output
        try:
            # escpos has no public "send these bytes": _raw is what every one of its
            # printers implements, and what its own methods call.
            self._device._raw(data)
        except OSError as exc:  # sockets, files, and pyusb's USBError (an IOError)
            raise ReceiptPrinterUnavailable(
                self.target, f"stopped taking data: {_os_reason(exc)}") from exc

    def close(self) -> None:
        with contextlib.suppress(OSError):  # a connection already gone is closed enough
            self._device.close()

    def __enter__(self) -> ReceiptPrinterHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "no answer in time"
    if isinstance(exc, socket.gaierror):
        return f"host name not found ({exc.strerror or exc})"
    known = {
        errno.ECONNREFUSED: "connection refused (is the printer on, and is this its raw "
                            "printing port, usually 9100?)",
        errno.EHOSTUNREACH: "host unreachable (check the address and the network)",
        errno.ENETUNREACH: "network unreachable (check the address and the network)",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOENT: "no such file or folder",
        errno.ENODEV: "no such device (unplugged?)",
        errno.EPIPE: "the connection was closed by the printer",
        errno.ECONNRESET: "the connection was reset by the printer",
        errno.ETIMEDOUT: "no answer in time",
    }
    return known.get(exc.errno or 0, exc.strerror or str(exc))


def _cause(exc: BaseException) -> BaseException:
    """The error python-escpos wrapped (it raises DeviceNotFoundError inside except)."""
    return exc.__cause__ or exc.__context__ or exc


def _open_reason(target: UsbTarget | NetworkTarget | FileTarget, exc: BaseException,
                 timeout_s: float) -> str:
    """What went wrong, in words an operator acts on; the target is named beside it."""
    cause = _cause(exc)
    if isinstance(target, NetworkTarget):
        if isinstance(cause, socket.timeout | TimeoutError):
            return f"did not answer within {timeout_s:g} s (is the printer on?)"
        if isinstance(cause, OSError):
            return _os_reason(cause)
    if isinstance(target, FileTarget) and isinstance(cause, OSError):
        reason = _os_reason(cause)
        if cause.errno in (errno.EACCES, errno.EPERM):
            reason += " (the kiosk's user must be allowed to write it: group lp)"
        return reason
    if isinstance(target, UsbTarget):
        if type(cause).__name__ == "NoBackendError":
            return "libusb-1.0 is not installed (apt install libusb-1.0-0)"
        if isinstance(cause, OSError) and cause.errno in (errno.EACCES, errno.EPERM):
            return f"permission denied (install {UDEV_RULE} and re-plug the printer)"
        if isinstance(cause, AssertionError) or "not found" in str(cause):
            return "not found (is it plugged in and switched on?)"
        if isinstance(cause, OSError):
            return _os_reason(cause)
    return str(cause) or type(cause).__name__


def _device(target: UsbTarget | NetworkTarget | FileTarget, profile: str,
            timeout_s: float) -> Any:
    from escpos.printer import File, Network, Usb

    if isinstance(target, NetworkTarget):
        return Network(target.host, target.port, timeout=timeout_s, profile=profile)
    if isinstance(target, FileTarget):
        return File(str(target.path), profile=profile)
    # pyusb's timeout is in milliseconds
    return Usb(target.vendor, target.product, timeout=int(timeout_s * 1000), profile=profile)


def open_receipt_printer(target: str, *, profile: str | None = None,
                         timeout_s: float = DEFAULT_TIMEOUT_S) -> ReceiptPrinterHandle:
    """Open the printer ``target`` names (``usb:VID:PID``, ``network:HOST[:PORT]``,
    ``file:/path``) with an escpos ``profile`` (e.g. ``TM-T88III``; it gives the paper
    width and whether the printer draws QR codes itself).

    Raises :class:`ReceiptTargetError` for a target or profile that cannot work and
    :class:`ReceiptPrinterUnavailable` for a printer that cannot be reached now.
    """
    parsed = parse_target(target)
    name = check_profile(profile)
    if not is_usable(target):
        raise ReceiptPrinterUnavailable(
            target, "USB printing needs pyusb and libusb-1.0 (pip install pyusb; "
                    "apt install libusb-1.0-0)" if isinstance(parsed, UsbTarget)
            else "python-escpos is not installed")
    from escpos.exceptions import Error as EscposError

    device = _device(parsed, name, timeout_s)
    try:
        device.open()
    # escpos wraps the device errors it expects; pyusb adds NoBackendError (a ValueError:
    # no libusb) and escpos a RuntimeError (no pyusb); OSError for anything unwrapped
    except (EscposError, OSError, ValueError, RuntimeError) as exc:
        raise ReceiptPrinterUnavailable(target, _open_reason(parsed, exc, timeout_s)) \
            from exc
    return ReceiptPrinterHandle(target, name, device)


def probe_receipt_printer(target: str, *, profile: str | None = None,
                          timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
    """Check that the printer can be reached, printing nothing: a network or USB printer
    is opened and closed; a file is only checked for being writable, because opening it
    to write would empty a regular file. Raises as :func:`open_receipt_printer` does."""
    parsed = parse_target(target)
    if isinstance(parsed, FileTarget):
        check_profile(profile)
        path = parsed.path
        where = path if path.exists() else path.parent
        if not where.exists():
            raise ReceiptPrinterUnavailable(target, "no such file or folder")
        if not os.access(where, os.W_OK):
            raise ReceiptPrinterUnavailable(
                target, f"{where}: permission denied (the kiosk's user must be allowed to "
                        "write it: group lp)")
        return
    open_receipt_printer(target, profile=profile, timeout_s=timeout_s).close()
