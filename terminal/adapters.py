"""The terminal's adapters: drivers (and the spool agent's HTTP reporter) dressed as the
ports of :mod:`terminal.ports`.

Only this module and :mod:`terminal.wiring` import ``drivers`` (an import-linter
contract says so). Each adapter wraps one driver object (composition, so no driver
method reaches the core untranslated) and turns the driver's exceptions into the
terminal's, chained (``raise PrintServerError(...) from exc``): the core catches its
own exceptions only, never a driver's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests

from drivers.cards import CardRead, WedgeCardReader
from drivers.cups import CupsError, CupsHoldQueue, HeldJob, JobProgress, PrinterNotReady
from drivers.receipt import ReceiptError, open_receipt_printer, print_receipt
from drivers.snmp import PollResult, PrinterError, SnmpTarget, poll_printer
from terminal.http_answers import send
from terminal.outcomes import printer_refusal
from terminal.ports import (
    PrinterRefused,
    PrinterUnreadable,
    PrintServerError,
    SpoolQueueUnavailable,
)
from terminal.receipts import Receipt, ReceiptPrinterError
from terminal.spool_agent import REPORT_PATH


class WedgeCodeScanner:
    """A keyboard-wedge 2D scanner, grabbed through evdev, as a :class:`CodeScanner`.

    The card wedge's reader does the work (device choice, exclusive grab, reopening after
    an unplug, the key decoder); a scan is its read's raw text. No debounce: scanning the
    same card again (after a refusal was fixed) is a deliberate act.
    """

    def __init__(self, reader: WedgeCardReader) -> None:
        self.reader = reader

    def start(self, on_code: Callable[[str], None]) -> None:
        self.reader.start(lambda read: on_code(_raw(read)))

    def stop(self) -> None:
        self.reader.stop()


def _raw(read: CardRead) -> str:
    return read.raw


class KioskHoldQueue:
    """CUPS's hold queue as the terminal's :class:`~terminal.ports.HoldQueue`.

    Every :class:`drivers.cups.CupsError` becomes a :class:`PrintServerError`, a printer
    not ready at release a :class:`PrinterRefused`; a printer's reason is a registered
    outcome key (:func:`terminal.outcomes.printer_refusal`).
    """

    def __init__(self, cups: CupsHoldQueue) -> None:
        self.cups = cups

    def held_jobs(self, username: str) -> list[HeldJob]:
        try:
            return self.cups.held_jobs(username)
        except CupsError as exc:
            raise PrintServerError(str(exc)) from exc

    def set_options(self, job_id: int, *, colour: bool, duplex: bool) -> None:
        try:
            self.cups.set_options(job_id, colour=colour, duplex=duplex)
        except CupsError as exc:
            raise PrintServerError(str(exc)) from exc

    def release(self, job_id: int) -> None:
        try:
            self.cups.release(job_id)
        except PrinterNotReady as exc:
            raise PrinterRefused(printer_refusal(exc.reason)) from exc
        except CupsError as exc:
            raise PrintServerError(str(exc)) from exc

    def cancel(self, job_id: int) -> None:
        try:
            self.cups.cancel(job_id)
        except CupsError as exc:
            raise PrintServerError(str(exc)) from exc

    def progress(self, job_id: int) -> JobProgress:
        try:
            return self.cups.progress(job_id)
        except CupsError as exc:
            raise PrintServerError(str(exc)) from exc

    def printer_problem(self) -> str | None:
        try:
            problem = self.cups.printer_problem()
        except CupsError as exc:
            raise PrintServerError(str(exc)) from exc
        return None if problem is None else printer_refusal(problem)

    def purge_older_than(self, max_age: timedelta) -> list[int]:
        """Cancel and purge (spool file too) the waiting jobs older than ``max_age``."""
        try:
            return self.cups.purge_older_than(max_age)
        except CupsError as exc:
            raise PrintServerError(str(exc)) from exc


class CupsSpoolQueue:
    """CUPS as the spool agent sees it (``terminal.spool_agent.SpoolQueue``): every job
    waiting on the watched queues, whoever sent it, with its spool file when readable."""

    def __init__(self, cups: CupsHoldQueue) -> None:
        self.cups = cups

    def waiting_jobs(self) -> list[HeldJob]:
        try:
            return self.cups.waiting_jobs()
        except CupsError as exc:
            raise SpoolQueueUnavailable(str(exc)) from exc


_BLOCKING_ERRORS = {
    PrinterError.JAMMED: "printer_jammed",
    PrinterError.NO_TONER: "toner_empty",
    PrinterError.NO_PAPER: "paper_empty",
    PrinterError.DOOR_OPEN: "door_open",
    PrinterError.OFFLINE: "printer_offline",
}


@dataclass(frozen=True)
class _SupplyReport:
    name: str
    level_percent: int | None


@dataclass(frozen=True)
class _AlertReport:
    code: str
    severity: str
    description: str


class SnmpPrinter:
    """The SNMP driver as both printer ports: the release's page counter and problem
    check (``terminal.ports.PageCounter``) and the reporter's counters, supplies and
    alerts (``terminal.ports.PrinterMonitor``).

    An unreachable agent blocks nothing (CUPS still says whether the printer can print);
    it only means the job's own impression count is used instead of the counter. The
    page count is always read fresh (it brackets a job); the reporter's three reads share
    one poll for a few seconds instead of polling the printer three times in a row.
    Whatever fails is a :class:`PrinterUnreadable`.
    """

    def __init__(self, target: SnmpTarget, reuse_s: float = 5.0) -> None:
        self._target = target
        self._reuse_s = reuse_s
        self._last: tuple[float, PollResult] | None = None

    def _poll(self, fresh: bool = False) -> PollResult:
        now = time.monotonic()
        if not fresh and self._last is not None and now - self._last[0] < self._reuse_s:
            return self._last[1]
        try:
            result = poll_printer(self._target)
        except (RuntimeError, OSError) as exc:  # pysnmp missing, no socket
            raise PrinterUnreadable(f"printer {self._target.host}: {exc}") from exc
        self._last = (now, result)
        return result

    def _reachable(self) -> PollResult:
        result = self._poll()
        if not result.reachable:
            raise PrinterUnreadable(f"printer {self._target.host} unreachable: {result.reason}")
        return result

    def page_count(self) -> int:
        result = self._poll(fresh=True)
        total = result.counters.total if result.counters is not None else None
        if total is None:
            raise PrinterUnreadable(f"no page counter from {self._target.host}: {result.reason}")
        return total

    def printer_problem(self) -> str | None:
        try:
            result = self._poll(fresh=True)
        except PrinterUnreadable:
            return None  # an unreadable agent blocks nothing: CUPS has the last word
        if result.status is None:
            return None
        for error in result.status.errors:
            if error in _BLOCKING_ERRORS:
                return _BLOCKING_ERRORS[error]
        return None

    def counters(self) -> dict[str, int]:
        counters = self._reachable().counters
        if counters is None:
            return {}
        found = {f"{c.vendor}:{c.kind.value}": c.value for c in counters.vendor}
        if counters.total is not None:
            found["total"] = counters.total
        return found

    def supplies(self) -> list[_SupplyReport]:
        return [
            _SupplyReport(supply.description, supply.percent)
            for supply in self._reachable().supplies
        ]

    def alerts(self) -> list[_AlertReport]:
        status = self._reachable().status
        if status is None:
            return []
        alerts = [_AlertReport(a.code, a.severity, a.description) for a in status.alerts]
        for device in status.devices:
            alerts.extend(
                _AlertReport(error.value, "warning", error.value) for error in device.errors
            )
        return alerts


class EscposReceiptPrinter:
    """The ESC/POS driver as the terminal's :class:`~terminal.ports.ReceiptPrinter`.

    The printer is opened for each receipt and closed after it: a receipt is printed a
    few times a day, and a printer switched off, unplugged or restarted in between is
    then simply found again at the next one instead of holding a dead connection. Every
    driver error (unreachable, not permitted, a profile that cannot print a QR code)
    becomes a :class:`ReceiptPrinterError` carrying the driver's operator-readable reason.
    """

    def __init__(self, target: str, *, profile: str | None = None, native_qr: bool = True,
                 timeout_s: float = 10.0) -> None:
        self.target = target
        self.profile = profile
        self.native_qr = native_qr
        self.timeout_s = timeout_s

    def print_receipt(self, receipt: Receipt) -> None:
        try:
            with open_receipt_printer(self.target, profile=self.profile,
                                      timeout_s=self.timeout_s) as printer:
                print_receipt(printer, receipt.title, receipt.lines, receipt.footer,
                              qr=receipt.qr, native_qr=self.native_qr)
        except ReceiptError as exc:
            raise ReceiptPrinterError(str(exc)) from exc


class HttpAnalysisReporter:
    """``POST /api/v1/job-analyses`` with the agent's terminal token.

    One attempt per call: the journal keeps what failed and the next pass sends it
    again, so retrying here would only delay the other reports of this pass.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 10.0,
    ) -> None:
        self._url = base_url.rstrip("/") + REPORT_PATH
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._http = requests.Session()
        self._http.headers["Authorization"] = f"Bearer {token}"

    def report(self, body: Mapping[str, Any]) -> None:
        send(self._http, "POST", self._url, dict(body), self._timeout, REPORT_PATH)

    def close(self) -> None:
        self._http.close()
