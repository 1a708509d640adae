"""Voucher redemptions off the Kivy thread; the answer comes back on it.

A redemption waits for the backend (within the client's screen budget), so it runs on
the terminal's executor. An answer that arrives after the user left (or after the voucher
screen was closed) is dropped: the next person never sees the previous one's credit.
The backend has still credited it, to the user who asked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor

from kivy.clock import Clock

from terminal.ports import ReceiptPrinter, Redemption, VoucherRefusal
from terminal.receipts import Receipt, ReceiptPrinterError
from terminal.vouchers import VoucherDesk

_log = logging.getLogger(__name__)


class VoucherFlow:
    """Asks the desk on the executor; ``on_answer(answer)`` on the Kivy thread."""

    def __init__(self, desk: VoucherDesk, executor: Executor,
                 on_answer: Callable[[Redemption], None]) -> None:
        self._desk = desk
        self._executor = executor
        self._on_answer = on_answer
        self._asked = 0

    def redeem(self, username: str, code: str) -> None:
        self._asked += 1
        asked = self._asked
        desk = self._desk

        def work() -> None:
            try:
                answer = desk.redeem(username, code)
            except Exception:  # a bug must not leave the screen waiting for ever
                _log.exception("voucher redemption failed unexpectedly")
                answer = VoucherRefusal("internal_error")
            Clock.schedule_once(lambda _dt: self._deliver(asked, answer))

        self._executor.submit(work)

    def print_receipt(self, printer: ReceiptPrinter, receipt: Receipt,
                      on_done: Callable[[str | None], None]) -> None:
        """Print off the Kivy thread; ``on_done(None)``, or the reason it failed."""
        asked = self._asked

        def work() -> None:
            problem: str | None = None
            try:
                printer.print_receipt(receipt)
            except ReceiptPrinterError as exc:
                problem = str(exc)
            except Exception:  # a bug: say it failed rather than wait for ever
                _log.exception("receipt printing failed unexpectedly")
                problem = "internal error"
            Clock.schedule_once(lambda _dt: self._receipt_done(asked, problem, on_done))

        self._executor.submit(work)

    def end(self) -> None:
        """The user left: whatever is still on its way is not shown."""
        self._asked += 1

    def _receipt_done(self, asked: int, problem: str | None,
                      on_done: Callable[[str | None], None]) -> None:
        if asked == self._asked:
            on_done(problem)

    def _deliver(self, asked: int, answer: Redemption) -> None:
        if asked == self._asked:
            self._on_answer(answer)
