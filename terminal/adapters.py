"""The terminal's adapters: drivers (and the spool agent's HTTP reporter) dressed as the
ports of :mod:`terminal.ports`.

Only this module and :mod:`terminal.wiring` import ``drivers`` (an import-linter
contract says so). Each adapter wraps one driver object (composition, so no driver
method reaches the core untranslated) and turns the driver's exceptions into the
terminal's, chained (``raise PrintServerError(...) from exc``): the core catches its
own exceptions only, never a driver's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from drivers.cards import CardNumberError, CardRead, NormalisedCardReader, WedgeCardReader
from drivers.cups import CupsError, CupsHoldQueue, HeldJob, JobProgress, PrinterNotReady
from drivers.printers3d import (
    MoonrakerClient,
    OctoPrintClient,
    OctoPrintEvents,
    ServerRefused,
    ServerUnreachable,
)
from drivers.receipt import ReceiptError, open_receipt_printer, print_receipt
from drivers.snmp import PollResult, PrinterError, SnmpTarget, poll_printer
from terminal.http_answers import send
from terminal.outcomes import printer_refusal
from terminal.ports import (
    PrinterRefused,
    PrinterRejected,
    PrinterUnreachable,
    PrinterUnreadable,
    PrintServerError,
    PrintStatus,
    SpoolQueueUnavailable,
)
from terminal.receipts import Receipt, ReceiptPrinterError
from terminal.spool_agent import REPORT_PATH
from terminal.technician_types import CardCheck, SnmpProbe, SupplyLevel

_log = logging.getLogger(__name__)


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

    def serial(self) -> str | None:
        identity = self._reachable().identity
        return identity.serial if identity is not None else None

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


# --- 3D printers (OctoPrint, Moonraker) as terminal.ports.ThreeDPrinter ----------------

_REJECTION_CODES = {
    "busy": "printer_busy", "not_ready": "printer_not_ready", "file": "printer_file_refused",
    "not_found": "printer_file_refused", "auth": "printer_auth",
    "bad_request": "printer_not_ready",
}


@contextmanager
def _printer_errors(server: str, url: str) -> Iterator[None]:
    """Translate a 3D server client's errors to the port's, chained."""
    try:
        yield
    except ServerUnreachable as exc:
        raise PrinterUnreachable(f"{server} at {url}: {exc}") from exc
    except ServerRefused as exc:
        raise PrinterRejected(_REJECTION_CODES.get(exc.reason, "printer_not_ready"),
                              exc.message) from exc


def _time_left(print_time_s: int | None, progress: float | None) -> int | None:
    if print_time_s is None or not progress or progress <= 0 or progress >= 1:
        return None
    return max(0, round(print_time_s / progress - print_time_s))


@dataclass
class _Outcome:
    """How the print followed last ended, as the events said."""

    state: str  # completed | cancelled | failed
    file_name: str | None
    file_position: int | None
    print_time_s: int | None
    message: str = ""


class OctoPrintPrinter:
    """OctoPrint as the terminal's :class:`~terminal.ports.ThreeDPrinter`.

    ``/api/job`` says what runs now, but once a print ends OctoPrint goes back to
    ``Operational`` and clears the file position; only its events tell a completed print
    (``PrintDone``) from a cancelled one (``PrintCancelled``, which carries the file
    position at the cancel) or a failed one (``PrintFailed``). So the adapter listens to
    the push channel (:class:`drivers.printers3d.OctoPrintEvents`) from its first call,
    and :meth:`status` reports the last outcome until the next :meth:`start`. Without
    the events (a kiosk restarted after the end) the file's print log says success or
    not; a non-success it did not see is reported ``failed`` with a message saying so.
    """

    kind = "octoprint"

    def __init__(self, client: OctoPrintClient, events: OctoPrintEvents | None = None,
                 outcome_wait_s: float = 3.0) -> None:
        self._client = client
        self._events = events if events is not None else OctoPrintEvents(client)
        self._outcome_wait_s = outcome_wait_s
        self._outcome: _Outcome | None = None
        self._following: str | None = None
        self._last_position: int | None = None
        self._pending: list[str] = []

    def _guard(self) -> AbstractContextManager[None]:
        return _printer_errors("OctoPrint", self._client.url)

    def close(self) -> None:
        """Stop listening to OctoPrint's events (not part of the port: for shutdown)."""
        self._events.stop()

    def upload(self, path: Path, name: str) -> None:
        with self._guard():
            self._client.upload(path, name)

    def start(self, name: str) -> None:
        self._events.start()
        # a print that ends before the channel is up would leave no outcome behind
        self._events.connected.wait(self._client.timeout_s)
        self._take_events()
        with self._guard():
            self._client.select_and_print(name)
        self._outcome, self._following, self._last_position = None, name, 0

    def cancel(self) -> None:
        with self._guard():
            try:
                self._client.cancel()
            except ServerRefused as exc:
                if exc.reason != "not_ready":  # 409: no print to cancel (already ended)
                    raise

    def remove(self, name: str) -> None:
        with self._guard():
            self._client.delete(name)

    def status(self) -> PrintStatus:
        self._events.start()
        with self._guard():
            self._take_events()
            job = self._client.job()
            printer = self._client.printer()
            state = _octoprint_state(job.state)
            if state in ("printing", "paused"):
                if job.filepos is not None:
                    self._last_position = job.filepos
                if self._following is None:
                    self._following = job.file_name
                progress = None if job.completion is None else job.completion / 100
                return PrintStatus(
                    state=state, file_name=job.file_name, file_position=job.filepos,
                    file_size=job.file_size, progress=progress, print_time_s=job.print_time_s,
                    time_left_s=job.print_time_left_s, temperatures=printer.temperatures,
                    events=self._take_pending(), message=job.state,
                )
            if self._following is not None and self._outcome is None:
                # the job left the printing state: its end event is a moment behind (a
                # printer gone offline mid-print fires PrintFailed); waited for once
                self._await_outcome(None if state == "offline" else job.file_name)
                self._following = None
            if state == "offline" and (self._outcome is None or self._outcome.state != "failed"):
                return PrintStatus("offline", file_name=job.file_name,
                                   file_position=self._last_position, file_size=job.file_size,
                                   events=self._take_pending(), message=job.state)
            outcome = self._outcome or self._logged_outcome(job.file_name)
            if outcome is None:
                return PrintStatus("idle", file_name=job.file_name, file_size=job.file_size,
                                   temperatures=printer.temperatures,
                                   events=self._take_pending(), message=job.state)
            progress = None
            if outcome.file_position is not None and job.file_size:
                progress = min(1.0, outcome.file_position / job.file_size)
            return PrintStatus(
                state=outcome.state, file_name=outcome.file_name or job.file_name,
                file_position=outcome.file_position, file_size=job.file_size,
                progress=progress, print_time_s=outcome.print_time_s,
                temperatures=printer.temperatures, events=self._take_pending(),
                message=outcome.message,
            )

    def _await_outcome(self, file_name: str | None) -> None:
        """Wait a moment for the end event; then ask the print log of ``file_name``."""
        deadline = time.monotonic() + self._outcome_wait_s
        while self._outcome is None and time.monotonic() < deadline:
            time.sleep(0.1)
            self._take_events()
        if self._outcome is None and file_name is not None:
            self._outcome = self._logged_outcome(file_name)

    def _logged_outcome(self, file_name: str | None) -> _Outcome | None:
        if file_name is None:
            return None
        last = self._client.last_print(file_name)
        if last is None:
            return None
        time_s = None if last.print_time_s is None else round(last.print_time_s)
        if last.success:
            return _Outcome("completed", file_name, None, time_s)
        return _Outcome("failed", file_name, self._last_position, time_s,
                        "OctoPrint logged the print as not completed; cancelled or failed "
                        "is not known (its end event was not seen)")

    def _take_events(self) -> None:
        for event in self._events.drain():
            payload = event.payload
            name = payload.get("name") or payload.get("path")
            size = payload.get("size")
            time_s = None if payload.get("time") is None else round(float(payload["time"]))
            if event.type == "PrintStarted":
                self._outcome, self._following = None, name
            elif event.type == "PrintDone":
                self._outcome = _Outcome("completed", name, size, time_s)
            elif event.type == "PrintCancelled":
                self._outcome = _Outcome("cancelled", name,
                                         _event_position(payload, self._last_position), time_s)
            elif event.type == "PrintFailed" and payload.get("reason") == "cancelled":
                # OctoPrint fires PrintFailed (reason "cancelled") right after
                # PrintCancelled: the same end, not a failure
                if self._outcome is None or self._outcome.state != "cancelled":
                    self._outcome = _Outcome("cancelled", name,
                                             _event_position(payload, self._last_position),
                                             time_s)
            elif event.type == "PrintFailed":
                self._outcome = _Outcome("failed", name,
                                         _event_position(payload, self._last_position), time_s,
                                         str(payload.get("error") or payload.get("reason", "")))
            elif event.type == "FilamentChange":
                self._pending.append("filament_change")
            elif event.type == "action" and _is_runout(str(payload.get("line", ""))):
                self._pending.append("filament_runout")

    def _take_pending(self) -> tuple[str, ...]:
        pending, self._pending = tuple(self._pending), []
        return pending


def _event_position(payload: Mapping[str, Any], last_seen: int | None) -> int | None:
    """The file position an end event carries (``fileposition``; else ``progress``, an
    integer percent in 1.11, times ``size``), never before the last one polled."""
    position = payload.get("fileposition")
    if position is None and isinstance(payload.get("progress"), (int, float)) and \
            payload.get("size"):
        position = round(float(payload["progress"]) / 100 * int(payload["size"]))
    if position is None:
        return last_seen
    return max(int(position), last_seen or 0)


def _octoprint_state(text: str) -> str:
    """OctoPrint's state text (``Printing``, ``Printing from SD``, ``Pausing``,
    ``Cancelling``, ``Operational``, ``Offline after error``, ``Error: ...``) as the
    port's vocabulary; what ends a job is told by the events, not here."""
    lowered = text.lower()
    if lowered.startswith(("pausing", "paused")):
        return "paused"
    if lowered.startswith(("printing", "starting", "resuming", "finishing", "cancelling",
                           "sending file")):
        return "printing"
    if lowered.startswith(("operational", "ready")):
        return "idle"
    return "offline"


def _is_runout(line: str) -> bool:
    """A firmware action line that reports a run-out (Marlin: ``//action:out_of_filament
    T0``, ``//action:paused filament_runout``, a prompt ``FilamentRunout``)."""
    lowered = line.lower().replace(" ", "")
    return any(word in lowered for word in ("out_of_filament", "runout", "run_out"))


_MOONRAKER_STATES = {
    "standby": "idle", "printing": "printing", "paused": "paused", "complete": "completed",
    "cancelled": "cancelled", "error": "failed",
}


class MoonrakerPrinter:
    """Moonraker (Klipper) as the terminal's :class:`~terminal.ports.ThreeDPrinter`.

    Klipper keeps the outcome in ``print_stats.state`` (``complete``, ``cancelled``,
    ``error``) and counts the filament itself (``print_stats.filament_used``), so the
    status is read as it is; for a finished job the history entry's ``filament_used``
    (what Moonraker recorded at the end) is preferred. Klipper's ``CANCEL_PRINT`` may
    reset ``virtual_sdcard``: the last position seen while printing is kept for that.
    """

    kind = "moonraker"

    def __init__(self, client: MoonrakerClient) -> None:
        self._client = client
        self._last_position: int | None = None

    def _guard(self) -> AbstractContextManager[None]:
        return _printer_errors("Moonraker", self._client.url)

    def upload(self, path: Path, name: str) -> None:
        with self._guard():
            self._client.upload(path, name)

    def start(self, name: str) -> None:
        with self._guard():
            status = self._client.status()
            if not status.klippy_ready:
                raise PrinterRejected("printer_not_ready", status.message)
            if status.print_stats.get("state") in ("printing", "paused"):
                raise PrinterRejected("printer_busy", str(status.print_stats.get("filename")))
            self._client.start(name)
        self._last_position = 0

    def cancel(self) -> None:
        with self._guard():
            self._client.cancel()

    def remove(self, name: str) -> None:
        with self._guard():
            self._client.delete(name)

    def status(self) -> PrintStatus:
        with self._guard():
            status = self._client.status()
            if not status.klippy_ready:
                return PrintStatus("offline", file_position=self._last_position,
                                   message=status.message)
            stats, sdcard = status.print_stats, status.virtual_sdcard
            state = _MOONRAKER_STATES.get(str(stats.get("state")), "offline")
            name = stats.get("filename") or None
            position = sdcard.get("file_position")
            if state in ("printing", "paused") and position is not None:
                self._last_position = int(position)
            if state in ("cancelled", "failed") and not position:
                position = self._last_position
            filament = stats.get("filament_used")
            if state in ("completed", "cancelled", "failed"):
                job = self._client.last_job()
                if job is not None and job.get("filename") == name and \
                        job.get("status") != "in_progress":
                    filament = job.get("filament_used", filament)
            print_time = stats.get("print_duration")
            print_time_s = None if print_time is None else round(float(print_time))
            progress = sdcard.get("progress")
            if state == "completed":
                progress = 1.0
            size = sdcard.get("file_size") or None
            return PrintStatus(
                state=state, file_name=name,
                file_position=None if position is None else int(position),
                file_size=None if size is None else int(size),
                progress=None if progress is None else float(progress),
                print_time_s=print_time_s,
                time_left_s=_time_left(print_time_s, progress) if state == "printing" else None,
                filament_mm=None if filament is None else Decimal(str(filament)),
                temperatures=status.temperatures,
                message=str(stats.get("message") or ""),
            )


class CheckingCardReader:
    """The configured reader with the technician's card check: while a check watches,
    each read goes to it as raw and normalised number (or why it could not be
    normalised) and never to the session, so badging a card there logs nobody in."""

    def __init__(self, reader: NormalisedCardReader) -> None:
        self.source = reader.source
        self.rule = reader.rule
        self._watcher: Callable[[CardCheck], None] | None = None
        self._lock = threading.Lock()

    def start(self, on_card: Callable[[str], None]) -> None:
        def on_read(read: CardRead) -> None:
            with self._lock:
                watcher = self._watcher
            try:
                number, error = self.rule.apply(read.raw), None
            except CardNumberError as exc:
                number, error = "", str(exc)
            if watcher is not None:
                watcher(CardCheck(read.raw, number, error))
            elif error is not None:
                _log.warning("card from %s not understood: %s", read.reader, error)
            else:
                on_card(number)

        self.source.start(on_read)

    def stop(self) -> None:
        self.source.stop()

    def watch(self, on_check: Callable[[CardCheck], None]) -> Callable[[], None]:
        with self._lock:
            self._watcher = on_check

        def unwatch() -> None:
            with self._lock:
                if self._watcher is on_check:
                    self._watcher = None

        return unwatch


def snmp_probe(target: SnmpTarget | None, host: str) -> SnmpProbe:
    """The printer as its SNMP agent answers now, for the technician's SNMP check."""
    if target is None:
        return SnmpProbe(host, code="snmp_disabled")
    try:
        result = poll_printer(target)
    except (RuntimeError, OSError) as exc:  # pysnmp missing, no socket
        return SnmpProbe(target.host, code="snmp_unreachable", detail=str(exc))
    if not result.reachable:
        return SnmpProbe(target.host, code="snmp_unreachable", detail=result.reason or "")
    counters: list[tuple[str, int]] = []
    if result.counters is not None:
        if result.counters.total is not None:
            counters.append(("total", result.counters.total))
        counters.extend((f"{c.vendor}:{c.kind.value}", c.value) for c in result.counters.vendor)
    supplies = tuple(SupplyLevel(s.description, s.percent, _supply_state(s.percent, s.state.value))
                     for s in result.supplies)
    alerts: list[str] = []
    status_words: list[str] = []
    if result.status is not None:
        alerts = [a.description or a.code for a in result.status.alerts]
        for device in result.status.devices:
            for word in (device.device_status, device.printer_state):
                if word is not None:
                    status_words.append(word.value)
        alerts.extend(error.value for error in result.status.errors)
    return SnmpProbe(target.host, status=", ".join(dict.fromkeys(status_words)),
                     counters=tuple(counters), supplies=supplies, alerts=tuple(alerts))


def _supply_state(percent: int | None, level: str) -> str:
    if percent is None:
        return "unknown" if level != "some_remaining" else "ok"
    if percent <= 0:
        return "empty"
    return "low" if percent <= 10 else "ok"
