"""Follow the 3D print the kiosk released, whoever is at the kiosk, across restarts.

The follower owns the one print this kiosk's printer runs. Every ``poll_s`` it asks the
printer's server for its status, off the UI thread, and turns it into a
:class:`~terminal.print3d_values.Print3DUpdate` (percent, time left, grams so far from
the file position and the analysis of our copy of the file, temperatures, events) for
whoever listens. The session of the user who released it may end meanwhile: the print
is followed all the same, and its end is settled without them.

How a print ends is read from the printer, never guessed from a timer:

- our file completed -> ``completed``; cancelled (by us, or on the printer) ->
  ``cancelled`` at the reported file position; the printer's own error -> ``failed``;
- the server does not answer -> nothing is decided: the last known position is kept
  and the printer is asked again at the next poll, for as long as it takes;
- the server answers with no job of ours (printer restarted, disconnected, printing
  something else) -> ``failed`` at the last position seen. Right after a start the
  server may not show the job yet: a short grace (``start_grace_s``) is allowed first.

While it runs, its progress and any filament run-out are journalled as events for the
backend (:mod:`terminal.print3d_reports`: the user's nearly-done mail, the
administrators' run-out alert).

The settlement is journalled in the outbox (``EntryKind.SETTLE_3D``, its idempotency key
made then) and sent by the charge book, or later by the drainer: recorded once, sent
until answered, charged once. The print's record (:mod:`terminal.print3d_record`) is
kept until then, so a restart finds the open hold and resumes (:meth:`recover`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from terminal.charges import AlreadySettled, Authorisation, ChargeBook
from terminal.ports import (
    BackendError,
    PrinterRejected,
    PrinterUnreachable,
    PrintStatus,
    ThreeDPrinter,
)
from terminal.print3d_record import PrintRecord, PrintRecordStore
from terminal.print3d_reports import Print3DReports
from terminal.print3d_values import (
    FilamentProfile,
    Listener3D,
    Print3DUpdate,
    ProfileOf,
    Stage3D,
)

_log = logging.getLogger(__name__)

JOB_REF_PREFIX = "print3d:"
RUNNING = frozenset({"printing", "paused"})
# The states a new print may start from. "failed" is the last job's end (an error, a
# run-out, a disconnect), which OctoPrint keeps reporting until the next job: without it a
# kiosk that restarted after a failed print would call the printer busy for ever.
READY = frozenset({"idle", "completed", "cancelled", "failed"})
OUTCOME_STAGE = {"completed": Stage3D.FINISHED, "cancelled": Stage3D.CANCELLED,
                 "failed": Stage3D.FAILED, "not_started": Stage3D.NOT_STARTED}


def job_ref(job_id: int) -> str:
    """The hold's ``job_ref`` for a 3D job (the backend's claim checks it)."""
    return f"{JOB_REF_PREFIX}{job_id}"


def job_of(ref: str) -> int | None:
    prefix, _, number = ref.partition(":")
    return int(number) if f"{prefix}:" == JOB_REF_PREFIX and number.isdigit() else None


class Print3DFollower:
    """The kiosk's one 3D print, followed on a thread of its own (``start``/``stop``);
    :meth:`poll_once` is one step of it, for tests and for the thread."""

    def __init__(
        self, printer: ThreeDPrinter, charges: ChargeBook, store: PrintRecordStore,
        profile_of: ProfileOf, poll_s: float = 2.0, start_grace_s: float = 20.0,
        clock: Callable[[], float] = time.time, reports: Print3DReports | None = None,
    ) -> None:
        self._printer = printer
        self._charges = charges
        self._reports = reports if reports is not None else Print3DReports(charges, clock)
        self._store = store
        self._profile_of = profile_of
        self.poll_s = poll_s
        self._grace_s = start_grace_s
        self._clock = clock
        self._lock = threading.RLock()
        self._record: PrintRecord | None = None
        self._profile: FilamentProfile | None = None
        self._listeners: list[Listener3D] = []
        self._latest: Print3DUpdate | None = None
        self._status: PrintStatus | None = None
        self._reachable = True
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what the screens read ---------------------------------------------------------

    def subscribe(self, listener: Listener3D) -> None:
        """``listener`` hears every update, from the follower's thread."""
        self._listeners.append(listener)

    @property
    def busy(self) -> Print3DUpdate | None:
        """The print in progress (its latest update), or None when the printer is ours
        to use. A second user is told the printer is busy with this."""
        with self._lock:
            return self._latest if self._record is not None else None

    @property
    def printer_status(self) -> PrintStatus | None:
        """The printer's state at the last poll (None: unreachable or not asked yet)."""
        return self._status if self._reachable else None

    # -- handing over and ending -----------------------------------------------------

    def adopt(self, record: PrintRecord, profile: FilamentProfile) -> None:
        """Follow ``record`` from now on (the release just started it)."""
        with self._lock:
            self._record, self._profile = record, profile
            self._latest = self._update(record, Stage3D.PRINTING)
        self._publish(self._latest)
        self._wake.set()

    def cancel(self) -> bool:
        """Ask the printer to cancel our print (a worker thread calls this); the end is
        settled when the printer reports it. False when the printer could not be told."""
        with self._lock:
            record = self._record
            if record is None:
                return False
            self._keep(replace(record, cancel_requested=True))
        try:
            self._printer.cancel()
        except (PrinterUnreachable, PrinterRejected) as exc:
            _log.warning("3D print of job %s: cancel not taken: %s", record.job_id, exc)
            return False
        self._wake.set()
        return True

    def recover(self, holds: Sequence[Authorisation]) -> None:
        """Take up what a previous run left: the open 3D holds of the journal (the MFP
        recovery leaves them alone). The hold of the saved record is followed again (or
        settled ``not_started`` if the release stopped before the start); any other open
        3D hold was never claimed with a record, and is voided."""
        try:
            record = self._store.load()
        except ValueError:
            _log.exception("3D print record unreadable; open 3D holds left to the operator")
            return
        for hold in holds:
            if job_of(hold.job_ref) is None:
                continue
            if record is not None and record.hold_key == hold.key:
                self._resume(record)
            else:
                self._void(hold.key, "kiosk restarted before the 3D job was claimed")
        if record is not None and self._record is None and not any(
                hold.key == record.hold_key for hold in holds):
            self._store.clear()  # its hold is settled already: nothing left to follow

    def _resume(self, record: PrintRecord) -> None:
        if not record.may_be_printing:
            self._settle(record, "not_started", None)
            return
        try:
            profile = self._profile_of(Path(record.local_file))
        except Exception:  # the copy is gone or spoilt: follow without grams
            _log.exception("3D job %s: local copy unreadable, grams so far not shown",
                           record.job_id)
            profile = FilamentProfile(record.file_size or 1, record.grams_estimate,
                                      record.grams_estimate, ())
        _log.info("3D job %s: following again after a restart", record.job_id)
        self._reports.resumed(record.job_id)
        self.adopt(record, profile)

    # -- the loop ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="print3d-follower",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop following; the record stays on disk for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # a bug must not end the following for good
                _log.exception("3D print follow step failed")
            # an idle printer is asked less often: only the idle screen shows it
            self._wake.wait(self.poll_s if self._record is not None else max(self.poll_s, 5))
            self._wake.clear()

    def poll_once(self) -> None:
        """Ask the printer once; publish the progress, or settle the print that ended."""
        try:
            status = self._printer.status()
        except (PrinterUnreachable, PrinterRejected) as exc:
            self._unreachable(exc)
            return
        self._status, self._reachable = status, True
        with self._lock:
            record = self._record
        if record is None:
            return
        ours = _is_ours(status, record)
        if ours and status.state in RUNNING:
            self._progress(record, status)
            return
        outcome = self._ended(record, status, ours)
        if outcome is None:
            return
        position = status.file_position if ours and status.file_position is not None \
            else record.file_position
        if outcome == "completed":
            position = status.file_size or record.file_size or position
        if ours:
            record = self._seen(record, status, position)
        self._settle(record, outcome, position)

    def _ended(self, record: PrintRecord, status: PrintStatus, ours: bool) -> str | None:
        """How the print ended, or None when it is too early to say."""
        if ours and status.state in {"completed", "cancelled", "failed"}:
            return status.state
        if ours and status.file_size and status.file_position is not None \
                and status.file_position >= status.file_size:
            return "completed"  # a server that went straight back to idle at the end
        if record.cancel_requested and status.state in READY:
            return "cancelled"
        started = record.started_at or 0.0
        if not record.seen_printing and self._clock() - started < self._grace_s:
            return None  # just started: the server may not show the job yet
        if not record.seen_printing and record.phase != "printing":
            return "not_started"  # the start never reached the printer
        _log.warning("3D job %s: the printer reports %s with no job of ours; settled as "
                     "failed at position %s", record.job_id, status.state, record.file_position)
        return "failed"

    def _progress(self, record: PrintRecord, status: PrintStatus) -> None:
        record = self._seen(record, status, status.file_position)
        percent = _percent(status, record)
        update = replace(self._update(record, Stage3D.PRINTING),
                         temperatures=dict(status.temperatures), events=status.events,
                         time_left_s=_time_left(status, percent), percent=percent)
        for event in status.events:
            _log.warning("3D job %s: printer event %s", record.job_id, event)
        with self._lock:
            self._latest = update
        self._publish(update)
        self._reports.events(record.job_id, status.events)
        self._reports.progress(record.job_id, status.state, percent, update.time_left_s,
                               status.file_position, status.print_time_s)

    def _seen(self, record: PrintRecord, status: PrintStatus,
              position: int | None) -> PrintRecord:
        """Keep what the printer just said of our print (on disk when it moved). The
        record is re-read under the lock: a cancel asked meanwhile must not be lost."""
        with self._lock:
            current = self._record if self._record is not None else record
            seen = replace(
                current, phase="printing", seen_printing=True,
                file_position=position if position is not None else current.file_position,
                file_size=status.file_size or current.file_size,
                print_time_s=status.print_time_s if status.print_time_s is not None
                else current.print_time_s,
                printer_filament_mm=status.filament_mm if status.filament_mm is not None
                else current.printer_filament_mm)
            if seen != current:
                self._keep(seen)
            return seen

    def _keep(self, record: PrintRecord) -> None:
        """The record, in memory and on disk, under the lock (one writer at a time)."""
        with self._lock:
            self._record = record
            self._store.save(record)

    def _unreachable(self, exc: Exception) -> None:
        """No answer: keep the last known position and ask again next time."""
        self._reachable = False
        with self._lock:
            latest = self._latest if self._record is not None else None
        _log.info("3D printer not answering: %s", exc)
        if latest is not None and latest.printer_reachable:
            latest = replace(latest, printer_reachable=False, events=())
            with self._lock:
                self._latest = latest
            self._publish(latest)

    def _settle(self, record: PrintRecord, outcome: str, position: int | None) -> None:
        stage = OUTCOME_STAGE[outcome]
        with self._lock:
            settling = self._update(record, Stage3D.SETTLING)
            self._latest = settling
        self._publish(settling)
        final = replace(self._update(record, stage), percent=None)
        self._reports.ended(record.job_id)
        try:
            done = self._charges.settle_print3d(
                record.hold_key, record.job_id, outcome, position, record.print_time_s,
                record.printer_filament_mm)
        except AlreadySettled:
            _log.info("3D job %s: already settled", record.job_id)
        except BackendError as exc:  # refused for good: kept in the journal, refused
            _log.error("3D job %s: settlement refused: %s", record.job_id, exc)
            final = replace(final, stage=Stage3D.FAILED, problem="settlement_refused")
        else:
            answer = done.answer
            if answer is not None:
                final = replace(final, charged=answer.charged, grams_charged=answer.grams,
                                policy=answer.policy, balance=answer.balance,
                                settlement_sent=True)
        self._forget(record)
        self._publish(final)

    def _void(self, key: str, reason: str) -> None:
        try:
            self._charges.void(key, reason)
        except (BackendError, AlreadySettled) as exc:
            _log.error("3D hold %s could not be voided: %s", key, exc)

    def _forget(self, record: PrintRecord) -> None:
        """The print is settled (or journalled to be): nothing more to follow."""
        with self._lock:
            self._record = self._profile = self._latest = None
        self._store.clear()
        Path(record.local_file).unlink(missing_ok=True)
        try:
            self._printer.remove(record.printer_file)
        except (PrinterUnreachable, PrinterRejected) as exc:
            _log.info("3D job %s: file left on the printer: %s", record.job_id, exc)

    def _update(self, record: PrintRecord, stage: Stage3D) -> Print3DUpdate:
        profile = self._profile
        grams = None
        if profile is not None and record.file_position is not None:
            grams = profile.grams_at(record.file_position)
        return Print3DUpdate(
            record.job_id, record.name, record.username, stage, record.currency,
            held=record.held, grams_so_far=grams, grams_estimate=record.grams_estimate,
            percent=None if record.file_position is None or not record.file_size
            else 100.0 * record.file_position / record.file_size,
            printer_reachable=self._reachable)

    def _publish(self, update: Print3DUpdate) -> None:
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception:  # a screen's bug must not stop the following
                _log.exception("3D update listener failed")


def _is_ours(status: PrintStatus, record: PrintRecord) -> bool:
    name = status.file_name
    return name is not None and name.rsplit("/", 1)[-1] == record.printer_file


def _time_left(status: PrintStatus, percent: float | None) -> int | None:
    """The printer's own figure; else the time printed so far, scaled by what is left.
    OctoPrint leaves it null until its own analysis of the file has run (often the whole
    print on a small one), and a progress screen with no time left is the first thing a
    user waiting at the printer misses."""
    if status.time_left_s is not None:
        return status.time_left_s
    if status.print_time_s and percent is not None and percent >= 1.0:
        return round(status.print_time_s * (100.0 - percent) / percent)
    return None


def _percent(status: PrintStatus, record: PrintRecord) -> float | None:
    if status.progress is not None:
        return max(0.0, min(100.0, status.progress * 100.0))
    if record.file_position is not None and record.file_size:
        return 100.0 * record.file_position / record.file_size
    return None

