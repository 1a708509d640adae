"""Release a user's 3D job to the kiosk's printer: hold, claim, download, upload, start.

The steps, each one said on screen (:class:`~terminal.print3d_values.Print3DUpdate`):

1. the job must be releasable (ready, no blocking flag) and the printer ours and ready
   (no print of this kiosk being followed, the server answering ``idle``/finished);
2. hold the job's ``hold_amount`` through the charge book (journalled, key made then),
   ``job_ref = "print3d:{id}"``, ``description = "3D: {name}"``. A 3D job and its file
   live on the backend, so a hold decided offline is given back: no release offline;
3. claim the job under the hold, download our copy of the G-code, analyse it (its
   checkpoints give grams so far), upload it to the printer under a name of this hold,
   start it; then the :class:`~terminal.print3d_follow.Print3DFollower` follows it.

A failure before the start ends the release and says why: an unclaimed job's hold is
voided; a claimed one is settled ``not_started`` (the backend voids the hold and puts
the job back to ready). The record of how far it got is saved before each step, so a
crash at any point is settled right by the next start (see the follower's
``recover``). Everything here blocks (network, printer): callers run it on a worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from terminal.charges import AlreadySettled, Authorisation, ChargeBook
from terminal.ports import (
    BackendError,
    BackendRejected,
    BackendUnavailable,
    Balance,
    Print3DJob,
    Print3DJobs,
    PrinterRejected,
    PrinterUnreachable,
    ThreeDPrinter,
)
from terminal.print3d_follow import READY, Print3DFollower, job_ref
from terminal.print3d_record import PrintRecord, PrintRecordStore
from terminal.print3d_values import Listener3D, Print3DUpdate, ProfileOf, Stage3D
from terminal.release import shortfall

_log = logging.getLogger(__name__)


class Print3DListingFailed(Exception):
    """The user's 3D jobs cannot be listed now; ``code`` is a stable key."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Print3DDesk:
    """A 3D kiosk's listing and release, for the group its printer belongs to."""

    jobs: Print3DJobs
    printer: ThreeDPrinter
    charges: ChargeBook
    follower: Print3DFollower
    store: PrintRecordStore
    profile_of: ProfileOf
    group: str
    files_dir: Path
    balance_of: Callable[[str], Balance]
    clock: Callable[[], float] = time.time
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def list_jobs(self, username: str) -> Sequence[Print3DJob]:
        """The user's jobs for this printer's group; :class:`Print3DListingFailed` with
        ``print3d_offline`` when the backend cannot be reached (3D jobs live there)."""
        try:
            return self.jobs.print3d_jobs(username, self.group)
        except BackendUnavailable as exc:
            raise Print3DListingFailed("print3d_offline") from exc
        except BackendRejected as exc:
            raise Print3DListingFailed(exc.code) from exc

    def release(self, username: str, job: Print3DJob, listener: Listener3D) -> Print3DUpdate:
        """Release ``job``; return the update it ended on (``PRINTING`` once started)."""
        if not self._lock.acquire(blocking=False):
            return _update(job, Stage3D.REFUSED, problem="print3d_printer_busy")
        try:
            final = self._release(username, job, listener)
        except Exception:  # last-resort guard: the screen must get an answer
            _log.exception("bug: release of 3D job %s failed", job.job_id)
            final = _update(job, Stage3D.FAILED, problem="internal_error")
        finally:
            self._lock.release()
        listener(final)
        return final

    def _release(self, username: str, job: Print3DJob, listener: Listener3D) -> Print3DUpdate:
        refusal = self._refusal(job)
        if refusal is not None:
            return _update(job, Stage3D.REFUSED, problem=refusal)
        listener(_update(job, Stage3D.HOLDING))
        try:
            hold = self.charges.authorise(username, job.hold_amount, f"3D: {job.name}",
                                          job_ref(job.job_id))
        except BackendRejected as exc:
            if exc.code == "insufficient_funds":
                return self._insufficient(username, job)
            return _update(job, Stage3D.REFUSED, problem=exc.code)
        except BackendError:
            return _update(job, Stage3D.REFUSED, problem="print3d_offline")
        if hold.hold_id is None:  # decided offline: the claim needs the backend
            self._void(hold.key, "3D release needs the backend")
            return _update(job, Stage3D.REFUSED, problem="print3d_offline")
        held = _update(job, Stage3D.SENDING, held=hold.amount, balance=hold.balance)
        listener(held)
        record = PrintRecord(
            hold.key, hold.hold_id, username, job.job_id, job.name,
            f"printkiosk-{job.job_id}-{hold.key[:8]}.gcode",
            str(self.files_dir / f"{job.job_id}-{hold.key[:8]}.gcode"), job.currency,
            hold.amount, job.grams)
        return self._send(job, hold, record, held)

    def _refusal(self, job: Print3DJob) -> str | None:
        if job.status != "ready":
            return "print3d_not_ready"
        blocking = [flag.code for flag in job.flags if flag.blocks_release]
        if blocking:
            return blocking[0]
        if self.follower.busy is not None:
            return "print3d_printer_busy"
        try:
            status = self.printer.status()
        except PrinterUnreachable:
            return "printer_unavailable"
        except PrinterRejected as exc:
            return exc.code
        if status.state == "offline":
            return "printer_offline"
        if status.state not in READY:
            return "print3d_printer_busy"
        return None

    def _send(self, job: Print3DJob, hold: Authorisation, record: PrintRecord,
              held: Print3DUpdate) -> Print3DUpdate:
        self.store.save(record)
        try:
            self.jobs.claim_print3d(job.job_id, str(hold.hold_id))
        except BackendRejected as exc:
            self.store.clear()
            self._void(hold.key, f"claim refused: {exc.code}")
            return replace(held, stage=Stage3D.REFUSED, problem=exc.code, balance=None)
        except BackendError:
            # the claim may have reached the backend: settled as never started
            return self._not_started(record, held, "print3d_offline")
        record = self._save(record, "downloading")
        local = Path(record.local_file)
        try:
            local.parent.mkdir(parents=True, exist_ok=True)
            self.jobs.download_print3d(job.job_id, local)
        except (BackendError, OSError) as exc:
            _log.warning("3D job %s: download failed: %s", job.job_id, exc)
            return self._not_started(record, held, "print3d_download_failed")
        try:
            profile = self.profile_of(local)
        except Exception as exc:  # the analysis's own error, whatever it is
            _log.warning("3D job %s: our copy cannot be analysed: %s", job.job_id, exc)
            return self._not_started(record, held, "print3d_file_unreadable")
        record = self._save(replace(record, file_size=profile.size_bytes), "uploading")
        try:
            self.printer.upload(local, record.printer_file)
            record = self._save(replace(record, started_at=self.clock()), "starting")
            self.printer.start(record.printer_file)
        except PrinterRejected as exc:
            return self._not_started(record, held, exc.code)
        except PrinterUnreachable as exc:
            if record.phase == "starting":
                # the start may have reached the printer: the follower finds out
                _log.warning("3D job %s: start unanswered (%s); following", job.job_id, exc)
                self.follower.adopt(record, profile)
                return replace(held, stage=Stage3D.PRINTING)
            return self._not_started(record, held, "printer_unavailable")
        record = self._save(record, "printing")
        self.follower.adopt(record, profile)
        return replace(held, stage=Stage3D.PRINTING, grams_so_far=Decimal("0.00"),
                       percent=0.0)

    def _save(self, record: PrintRecord, phase: str) -> PrintRecord:
        record = record.at(phase)
        self.store.save(record)
        return record

    def _not_started(self, record: PrintRecord, held: Print3DUpdate,
                     problem: str) -> Print3DUpdate:
        """The job never printed: the backend voids the hold and readies the job."""
        final = replace(held, stage=Stage3D.NOT_STARTED, problem=problem)
        try:
            done = self.charges.settle_print3d(record.hold_key, record.job_id, "not_started",
                                               None, None, None)
        except (BackendError, AlreadySettled) as exc:
            _log.error("3D job %s: not-started settlement refused: %s", record.job_id, exc)
            final = replace(final, balance=None)
        else:
            balance = done.answer.balance if done.answer is not None else None
            final = replace(final, charged=Decimal("0.00"), balance=balance,
                            settlement_sent=done.sent)
        self.store.clear()
        Path(record.local_file).unlink(missing_ok=True)
        return final

    def _void(self, key: str, reason: str) -> None:
        try:
            self.charges.void(key, reason)
        except (BackendError, AlreadySettled) as exc:
            _log.error("3D hold %s could not be voided: %s", key, exc)

    def _insufficient(self, username: str, job: Print3DJob) -> Print3DUpdate:
        balance, missing = shortfall(self.balance_of, username, job.hold_amount)
        return _update(job, Stage3D.INSUFFICIENT, problem="insufficient_funds",
                       balance=balance, missing=missing)

    def recover(self, holds: Sequence[Authorisation]) -> None:
        """Take up what a previous run left (see :meth:`Print3DFollower.recover`), with
        releases held off until it is done."""
        with self._lock:
            self.follower.recover(holds)

    def cancel(self) -> bool:
        """Cancel the print being followed (from a worker thread)."""
        return self.follower.cancel()


def _update(job: Print3DJob, stage: Stage3D, **values: object) -> Print3DUpdate:
    return Print3DUpdate(job.job_id, job.name, job.username, stage, job.currency,
                         grams_estimate=job.grams, **values)  # type: ignore[arg-type]
