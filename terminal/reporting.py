"""What the kiosk tells the backend on its own: heartbeats, device reports, job reports.

The printer's counters and supplies are read on a schedule and its alerts at every
heartbeat, through the :class:`~terminal.ports.PrinterMonitor` port (the SNMP adapter in
production). Reports go into the outbox like charges do, so a report made while the
backend is away is sent when it returns, in order, exactly once. An alert is reported
when the set of active alerts changes (raised or cleared), not at every read: the
backend's log then reads like the printer's history.

The heartbeat is a quick probe of the backend: it keeps the reachability flag fresh,
so the UI shows "offline" before anyone badges, and wakes the outbox drainer when the
backend comes back. A printer that does not answer is logged and tried again at the next
tick; it never stops the kiosk. After ``unreachable_after`` alert reads in a row that
failed, the alert set gains :data:`PRINTER_UNREACHABLE` (the alerts last read are kept:
a jam seen before the printer went quiet is not "cleared" by silence), and loses it at
the first read that works: the backend tells the administrators (issue 18).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from terminal.ports import EventJournal, PrinterAlert, PrinterMonitor, PrinterUnreadable, Supply

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportSchedule:
    heartbeat_s: float = 30.0
    device_s: float = 900.0
    # Failed alert reads in a row (one per heartbeat) before the printer is reported
    # unreachable: one lost UDP answer is not worth an administrator's mail.
    unreachable_after: int = 3


# The alert a kiosk adds while its printer does not answer (code, severity, description).
PRINTER_UNREACHABLE = ("printer_unreachable", "critical", "the printer does not answer")


class Reporter:
    """Call :meth:`tick` often (about once a second); it does what is due."""

    def __init__(
        self,
        journal: EventJournal,
        monitor: PrinterMonitor | None,
        heartbeat: Callable[[], bool],
        schedule: ReportSchedule,
        clock: Callable[[], float] = time.monotonic,
        on_heartbeat: Callable[[bool], None] | None = None,
    ) -> None:
        self._journal = journal
        self._monitor = monitor
        self._heartbeat = heartbeat
        self._schedule = schedule
        self._clock = clock
        self._on_heartbeat = on_heartbeat
        self._next_heartbeat = clock()
        self._next_device = clock()
        self._alerts: frozenset[tuple[str, str, str]] | None = None
        self._failed_reads = 0

    def tick(self) -> None:
        now = self._clock()
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + self._schedule.heartbeat_s
            self._beat()
            self._report_alerts()
        if now >= self._next_device:
            self._next_device = now + self._schedule.device_s
            self._report_device()

    def job_released(
        self, job_ref: str, username: str, pages: int, colour_pages: int, charged: Decimal,
        outcome: str,
    ) -> None:
        """A job left the printer (completed, jammed, cancelled): what was printed, charged."""
        self._journal.record_event("job_report", {
            "job_ref": job_ref, "username": username, "pages": pages,
            "colour_pages": colour_pages, "charged": str(charged), "outcome": outcome,
        })

    def _beat(self) -> None:
        reachable = self._heartbeat()
        if self._on_heartbeat is not None:
            self._on_heartbeat(reachable)

    def _report_device(self) -> None:
        if self._monitor is None:
            return
        try:
            counters = dict(self._monitor.counters())
            supplies = _supplies(self._monitor.supplies())
            serial = self._monitor.serial()
        except PrinterUnreadable as exc:  # retry at the next report
            _log.warning("printer counters/supplies could not be read: %s", exc)
            return
        # The serial lets the backend tell a replaced printer from a reset counter.
        payload: dict[str, object] = {"counters": counters}
        if serial:
            payload["serial"] = serial
        self._journal.record_event("counters", payload)
        self._journal.record_event("supplies", {"supplies": supplies})

    def _report_alerts(self) -> None:
        if self._monitor is None:
            return
        try:
            active = _alerts(self._monitor.alerts())
            self._failed_reads = 0
        except PrinterUnreadable as exc:  # retry at the next heartbeat
            _log.warning("printer alerts could not be read: %s", exc)
            self._failed_reads += 1
            if self._failed_reads < self._schedule.unreachable_after:
                return
            active = (self._alerts or frozenset()) | {PRINTER_UNREACHABLE}
        previous = self._alerts
        self._alerts = active
        if active == previous or (previous is None and not active):
            return
        before = previous or frozenset()
        self._journal.record_event("alert", {
            "active": _alert_list(active),
            "raised": _alert_list(active - before),
            "cleared": _alert_list(before - active),
        })


class ReportingLoop:
    """Runs a :class:`Reporter` on its own thread until stopped."""

    def __init__(self, reporter: Reporter, period_s: float = 1.0) -> None:
        self._reporter = reporter
        self._period_s = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reporting", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._reporter.tick()
            except Exception:  # a bug in one report must not end reporting for good
                _log.exception("reporting tick failed")
            self._stop.wait(self._period_s)


def _supplies(supplies: Sequence[Supply]) -> list[dict[str, object]]:
    return [{"name": supply.name, "level_percent": supply.level_percent} for supply in supplies]


def _alerts(alerts: Sequence[PrinterAlert]) -> frozenset[tuple[str, str, str]]:
    return frozenset((alert.code, alert.severity, alert.description) for alert in alerts)


def _alert_list(alerts: frozenset[tuple[str, str, str]]) -> list[dict[str, str]]:
    return [{"code": code, "severity": severity, "description": description}
            for code, severity, description in sorted(alerts)]
