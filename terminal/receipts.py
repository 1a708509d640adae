"""A receipt the kiosk prints on request (after a voucher redemption, say), as the core
sees it: already translated and formatted text, no printer commands.

The kiosk builds a :class:`Receipt` with its gettext catalogue and locale formatting and
hands it to the :class:`~terminal.ports.ReceiptPrinter` port; which printer, which
commands and which code page are the adapter's business (``terminal.adapters``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Receipt:
    """What a receipt says, top to bottom."""

    title: str  # already translated by the caller
    lines: tuple[tuple[str, str], ...]  # (label, value) rows, translated and formatted
    footer: str = ""
    qr: str = ""  # printed as a QR code under the rows when set (e.g. a reference)

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("a receipt needs a title")
        for row in self.lines:
            if len(row) != 2 or not all(isinstance(part, str) for part in row):
                raise ValueError(f"receipt row {row!r}: expected a (label, value) pair")


class ReceiptPrinterError(Exception):
    """The receipt could not be printed; ``str()`` is a reason fit to show an operator
    (the printer's target and what to check), never a library's traceback text."""
