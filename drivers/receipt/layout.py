"""What goes on the paper: a voucher card (lines, a QR code, the code) and a receipt
(a title, label/value rows, a footer), each composed as one escpos job.

The QR code is drawn by the printer itself (``GS ( k``, "native") when the profile says
it can, else sent as a raster image (``GS v 0``) made with qrcode, which every thermal
printer prints. Both use error correction M and the four-module quiet zone that scanners
need; escpos's own image fallback keeps only one module, so the image is made here.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from drivers.receipt.errors import ReceiptTargetError
from drivers.receipt.printer import ReceiptPrinterHandle

QR_MODULE_DOTS = 8  # 1 mm modules at 203 dpi: a version 2 code is 33 mm wide
QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks
CARD_FEED_LINES = 2


def _qr_image(code: str, max_width: int | None) -> Any:
    """The code as a black-on-white image with its quiet zone, as wide as fits."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE, box_size=1)
    qr.add_data(code)
    qr.make(fit=True)
    modules = qr.modules_count + 2 * QUIET_ZONE
    dots = QR_MODULE_DOTS if max_width is None else min(QR_MODULE_DOTS, max_width // modules)
    if dots < 2:
        raise ReceiptTargetError(f"a QR code of {code!r} does not fit the paper "
                                 f"({max_width} dots wide)")
    qr.box_size = dots
    return qr.make_image().get_image()


def _paper_dots(job: Any) -> int | None:
    pixels = job.profile.profile_data.get("media", {}).get("width", {}).get("pixels")
    return pixels if isinstance(pixels, int) else None


def _qr(job: Any, code: str, native: bool) -> None:
    from escpos.constants import QR_ECLEVEL_M

    profile = job.profile
    if native and profile.supports("qrCode"):
        job.qr(code, ec=QR_ECLEVEL_M, size=QR_MODULE_DOTS, native=True)
    elif profile.supports("bitImageRaster"):
        job.image(_qr_image(code, _paper_dots(job)), impl="bitImageRaster")
    else:
        raise ReceiptTargetError(
            f"printer profile {profile.profile_data.get('name', '?')!r} can print neither "
            "a QR code nor a raster image: voucher cards need one of them")


def voucher_card_job(job: Any, *, code: str, lines: Sequence[str], native_qr: bool) -> Any:
    """Compose a voucher card on ``job`` (an escpos printer, usually ``Dummy``): the
    lines centred (the first in bold, double height), the QR code, the code in bold."""
    job.hw("INIT")
    job.set(align="center")
    for index, line in enumerate(lines):
        job.set(bold=index == 0, double_height=index == 0, normal_textsize=index != 0)
        job.textln(line)
    job.set(bold=False, normal_textsize=True)
    _qr(job, code, native_qr)
    job.ln()
    job.set(bold=True, double_height=True)
    job.textln(code)
    job.set(bold=False, normal_textsize=True, align="left")
    job.ln(CARD_FEED_LINES)
    job.cut()
    return job


def _row(label: str, value: str, columns: int) -> list[str]:
    """A label on the left and its value on the right; a value that does not fit beside
    the label goes below it, right-aligned, wrapped at the paper's width (as is a label
    longer than the paper): the printer's own wrapping would break the alignment."""
    gap = columns - len(label) - len(value)
    if gap >= 1:
        return [label + " " * gap + value]
    return [*textwrap.wrap(label, columns),
            *(line.rjust(columns) for line in textwrap.wrap(value, columns))]


def receipt_job(job: Any, title: str, rows: Sequence[tuple[str, str]], footer: str, *,
                qr: str = "", native_qr: bool = True) -> Any:
    """Compose a receipt on ``job``: the title centred in bold, the rows in two columns
    over the paper's width (the profile's font A), a rule, an optional QR code, the
    footer, a cut."""
    columns = job.profile.get_columns("a")
    job.hw("INIT")
    job.set(align="center", bold=True, double_height=True)
    job.textln(title)
    job.set(align="left", bold=False, normal_textsize=True)
    job.textln("-" * columns)
    for label, value in rows:
        for line in _row(label, value, columns):
            job.textln(line)
    job.textln("-" * columns)
    job.set(align="center")
    if qr:
        _qr(job, qr, native_qr)
        job.ln()
    if footer:
        job.textln(footer)
    job.set(align="left")
    job.ln(CARD_FEED_LINES)
    job.cut()
    return job


def print_voucher_card(printer: ReceiptPrinterHandle, *, code: str, lines: Sequence[str],
                       native_qr: bool = True) -> None:
    """Print one voucher card: ``lines`` (site, value, expiry, serial...) above a QR code
    of ``code`` (native ``GS ( k`` when asked and the profile supports it, else a
    ``GS v 0`` raster image) and ``code`` itself, large enough to type from."""
    printer.send(voucher_card_job(printer.new_job(), code=code, lines=lines,
                                  native_qr=native_qr))


def print_receipt(printer: ReceiptPrinterHandle, title: str, rows: Sequence[tuple[str, str]],
                  footer: str = "", *, qr: str = "", native_qr: bool = True) -> None:
    """Print a receipt: ``title``, (label, value) ``rows`` and a ``footer``, already
    translated and formatted by the caller, and a QR code of ``qr`` when there is one
    (e.g. a reference the cash desk can scan), drawn as for a voucher card."""
    printer.send(receipt_job(printer.new_job(), title, rows, footer, qr=qr,
                             native_qr=native_qr))
