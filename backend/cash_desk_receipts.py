"""Receipts of desk operations: a PDF for the browser, and ESC/POS bytes for the desk's
receipt printer when ``[web.cash_desk] receipt_printer`` names one.

The backend must not import drivers/, so this is the backend's own small escpos adapter:
``file:/path`` (a usblp device, or the tests' read-back) and ``tcp:HOST:PORT`` (a network
printer's raw port). escpos is imported when a receipt is printed, never at import
time; its errors and the OS's are translated to :class:`ReceiptPrinterError`.
Text is set in DejaVu Sans (voucher_cards' fonts): French amounts need no-break spaces.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import DeskOperation, User


class ReceiptPrinterError(Exception):
    """The desk's receipt printer could not print (the PDF is still there)."""


@dataclass(frozen=True)
class ReceiptLines:
    """A receipt as lines of text, already translated and formatted by the caller."""

    title: str
    lines: list[tuple[str, str]]  # (label, value)


@dataclass(frozen=True)
class ReceiptFacts:
    number: int
    kind: str
    method: str
    amount: Decimal
    currency: str
    clerk: str
    comment: str | None
    at: datetime
    username: str | None
    display_name: str | None


def receipt_facts(session: Session, number: int) -> ReceiptFacts | None:
    row = session.execute(
        select(DeskOperation, User.username, User.display_name)
        .outerjoin(User, User.id == DeskOperation.user_id)
        .where(DeskOperation.id == number)).first()
    if row is None:
        return None
    operation, username, display_name = row
    return ReceiptFacts(operation.id, operation.kind, operation.method, operation.amount,
                        operation.currency, operation.clerk, operation.comment,
                        operation.created_at, username, display_name)


def receipt_number(number: int) -> str:
    return f"R-{number:06d}"


def pdf(receipt: ReceiptLines) -> bytes:
    """An A6 page: the title, then one label/value line each."""
    from reportlab.lib.pagesizes import A6
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from backend.voucher_cards import _register_fonts

    _register_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A6, invariant=True)
    canvas.setTitle(receipt.title)
    width, height = A6
    y = height - 14 * mm
    canvas.setFont("CardSans-Bold", 13)
    canvas.drawString(10 * mm, y, receipt.title)
    y -= 9 * mm
    for label, value in receipt.lines:
        canvas.setFont("CardSans", 9)
        canvas.drawString(10 * mm, y, label)
        canvas.setFont("CardSans-Bold", 9)
        canvas.drawRightString(width - 10 * mm, y, value[:60])
        y -= 6 * mm
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def escpos_bytes(receipt: ReceiptLines, profile: str = "TM-T88III") -> bytes:
    """The receipt as ESC/POS commands (escpos's in-memory ``Dummy``)."""
    from escpos.printer import Dummy

    job = Dummy(profile=profile)
    job.set(align="center", bold=True, double_height=True)
    job.textln(receipt.title)
    job.set(align="left", bold=False, double_height=False)
    width = 42
    for label, value in receipt.lines:
        gap = max(1, width - len(label) - len(value))
        job.textln(f"{label}{' ' * gap}{value}")
    job.ln(2)
    job.cut()
    output: bytes = job.output
    return output


def parse_printer(target: str) -> tuple[str, str, int]:
    """``file:/path`` or ``tcp:HOST:PORT`` as (kind, path or host, port)."""
    kind, _, rest = target.partition(":")
    if kind == "file" and rest.startswith("/"):
        return "file", rest, 0
    if kind == "tcp":
        host, _, port = rest.rpartition(":")
        if host and port.isdigit() and 1 <= int(port) <= 65535:
            return "tcp", host, int(port)
    raise ValueError(f"{target!r}: write file:/absolute/path or tcp:HOST:PORT")


def print_receipt(target: str, data: bytes, timeout_s: float = 5.0) -> None:
    """Send ESC/POS bytes to the desk's printer; :class:`ReceiptPrinterError` if not."""
    kind, where, port = parse_printer(target)
    try:
        if kind == "file":
            with open(where, "ab") as device:
                device.write(data)
        else:
            import socket

            with socket.create_connection((where, port), timeout=timeout_s) as connection:
                connection.sendall(data)
    except OSError as exc:
        raise ReceiptPrinterError(f"receipt printer {target}: {exc.strerror or exc}") from exc
