"""``CupsHoldQueue``: a user's held jobs on a CUPS server, released only on the kiosk's command.

Jobs arrive held (``job-hold-until=indefinite``, set by the client or the queue's
``job-hold-until-default``) either on the kiosk's own printer queue or on a shared
"follow-me" queue that every kiosk may pull from. The adapter lists a user's held jobs on
both, changes colour mode and sides while they are held, and releases one on command.

The move pitfall, as measured against CUPS 2.4 (tests/drivers/cups/test_cups_move.py):
moving a job whose hold is its ``job-hold-until`` keeps it held, but a job that merely
waits in a *stopped* follow-me queue (``cupsdisable``, a common way to run a release
station) is pending, not held, and starts printing on the spot when moved to an enabled
queue. So :meth:`CupsHoldQueue.release` moves a job only at the moment of release, and
``pull`` first pins it with ``job-hold-until=indefinite`` in the follow-me queue,
checks it is ``pending-held``, moves it, checks it is still held in the kiosk's queue,
and only then lifts the hold. The printer's state is checked before anything moves, so a
refused release leaves the job exactly where it was.

pycups does the requests it has (with a fresh connection per call, so a restarted cupsd
or a second thread never meets a stale shared connection); Set-Job-Attributes, which
pycups lacks, goes through :mod:`drivers.cups.ipp`. pycups is imported only inside
calls: :func:`is_usable` tells whether this machine has it.
"""

from __future__ import annotations

import getpass
import importlib.util
import os
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from drivers.cups import ipp
from drivers.cups.errors import (
    CupsError,
    CupsUnavailable,
    JobNotFound,
    JobNotHeld,
    NotPermitted,
    PrinterNotReady,
)
from drivers.cups.printer_state import PRINTER_STATES, problem_of
from drivers.cups.types import (
    DUPLEX,
    HELD,
    JOB_STATES,
    SIMPLEX,
    HeldJob,
    JobProgress,
    PrinterStatus,
)

DEFAULT_SPOOL = Path("/var/spool/cups")
_IPP_NOT_FOUND = 0x0406
_IPP_PERMISSION = frozenset({0x0401, 0x0402, 0x0403})
_JOB_ATTRIBUTES = [
    "job-id",
    "job-name",
    "job-originating-user-name",
    "job-printer-uri",
    "job-state",
    "job-state-reasons",
    "time-at-creation",
    "job-impressions",
    "job-pages",
    "copies",
    "number-up",
    "print-color-mode",
    "sides",
    "media",
    "job-k-octets",
    "job-uuid",
]
_PRINTER_ATTRIBUTES = [
    "printer-state",
    "printer-state-reasons",
    "printer-is-accepting-jobs",
    "device-uri",
]

T = TypeVar("T")


def is_usable() -> bool:
    """True when pycups can be imported here (it needs libcups2 at build and run time)."""
    return importlib.util.find_spec("cups") is not None


def _queue_of(printer_uri: object) -> str:
    return str(printer_uri).rstrip("/").rsplit("/", 1)[-1]


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _reasons(value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    return tuple(str(v) for v in values if v is not None)


def _optional_int(value: Any) -> int | None:
    value = _first(value)
    return value if isinstance(value, int) and value > 0 else None


class CupsHoldQueue:
    """The hold queue of one kiosk printer on a CUPS server, plus shared follow-me queues.

    ``printer`` is the kiosk's CUPS queue; ``follow_me_queues`` are shared hold queues
    whose jobs are moved to ``printer`` when released here. ``spool_dir`` is CUPS's
    RequestRoot, read for the document when kiosk and CUPS share a host.
    ``check_device`` also asks the printer itself (ipp:// device URIs) before a release:
    CUPS only learns of a jam while it is sending a job.
    """

    def __init__(
        self,
        printer: str,
        *,
        server: str = "127.0.0.1",
        port: int = 631,
        follow_me_queues: Sequence[str] = (),
        spool_dir: Path | None = DEFAULT_SPOOL,
        check_device: bool = True,
        timeout_s: float = 10.0,
    ) -> None:
        self.printer = printer
        self.server = server
        self.port = port
        self.follow_me_queues = tuple(follow_me_queues)
        self.spool_dir = spool_dir
        self.check_device = check_device
        self.timeout_s = timeout_s
        self._user = getpass.getuser()  # the identity pycups (libcups) also sends

    # -- plumbing ---------------------------------------------------------------------

    def _call(self, what: str, job_id: int | None, action: Callable[[Any], T]) -> T:
        """Run one pycups call on a fresh connection, translating every foreign error."""
        try:
            import cups  # guarded vendor import, see is_usable()
        except ImportError as exc:
            raise CupsUnavailable("pycups is not installed (see is_usable())") from exc
        try:
            connection = cups.Connection(host=self.server, port=self.port)
            return action(connection)
        except cups.IPPError as exc:
            status, message = exc.args[0], exc.args[1] if len(exc.args) > 1 else ""
            raise self._translate(what, job_id, int(status), str(message)) from exc
        except cups.HTTPError as exc:
            raise CupsUnavailable(f"{what}: HTTP error {exc.args[0]} from {self._where}") from exc
        except RuntimeError as exc:  # pycups' "failed to connect to server"
            raise CupsUnavailable(f"{what}: {exc} ({self._where})") from exc

    @property
    def _where(self) -> str:
        return f"{self.server}:{self.port}"

    def _translate(self, what: str, job_id: int | None, status: int, message: str) -> CupsError:
        if status == _IPP_NOT_FOUND and job_id is not None:
            return JobNotFound(job_id, f"{what}: {message}")
        if status in _IPP_PERMISSION:
            return NotPermitted(f"{what} refused by {self._where}: {message}")
        if status >= 0x0500:
            return CupsUnavailable(f"{what} failed on {self._where}: {message} (0x{status:04x})")
        return CupsError(f"{what} failed on {self._where}: {message} (0x{status:04x})")

    def _queue_uri(self, queue: str) -> str:
        return f"ipp://{self.server}:{self.port}/printers/{queue}"

    # -- reading ----------------------------------------------------------------------

    def _job(self, job_id: int) -> dict[str, Any]:
        attrs: dict[str, Any] = self._call(
            "get job",
            job_id,
            lambda c: c.getJobAttributes(job_id, requested_attributes=_JOB_ATTRIBUTES),
        )
        return attrs

    def _document(self, job_id: int) -> Path | None:
        if self.spool_dir is None:
            return None
        path = self.spool_dir / f"d{job_id:05d}-001"
        return path if os.access(path, os.R_OK) else None

    def _held_job(self, job_id: int, attrs: dict[str, Any]) -> HeldJob:
        created = _first(attrs.get("time-at-creation"))
        return HeldJob(
            job_id=job_id,
            uuid=str(_first(attrs.get("job-uuid", ""))),
            name=str(_first(attrs.get("job-name", ""))),
            username=str(_first(attrs.get("job-originating-user-name", ""))),
            queue=_queue_of(_first(attrs.get("job-printer-uri", ""))),
            submitted_at=datetime.fromtimestamp(int(created or 0), UTC),
            state=JOB_STATES.get(int(_first(attrs.get("job-state", 0))), "unknown"),
            pages=_optional_int(attrs.get("job-pages")) or _optional_int(
                attrs.get("job-impressions")
            ),
            copies=_optional_int(attrs.get("copies")) or 1,
            number_up=_optional_int(attrs.get("number-up")) or 1,
            color_mode=_first(attrs.get("print-color-mode")),
            sides=_first(attrs.get("sides")),
            media=_first(attrs.get("media")),
            size_bytes=int(_first(attrs.get("job-k-octets", 0)) or 0) * 1024,
            document=self._document(job_id),
        )

    def queue_names(self) -> list[str]:
        """Every queue (printer or class) the CUPS server has: the technician's choice."""
        printers: dict[str, Any] = self._call("get printers", None, lambda c: c.getPrinters())
        return sorted(printers)

    def _queues(self) -> frozenset[str]:
        return frozenset({self.printer, *self.follow_me_queues})

    def _jobs_on_our_queues(self) -> list[HeldJob]:
        jobs: dict[int, dict[str, Any]] = self._call(
            "list jobs",
            None,
            lambda c: c.getJobs(
                which_jobs="not-completed", my_jobs=False, requested_attributes=_JOB_ATTRIBUTES
            ),
        )
        listed = [self._held_job(job_id, attrs) for job_id, attrs in jobs.items()]
        return [job for job in listed if job.queue in self._queues()]

    def held_jobs(self, username: str) -> list[HeldJob]:
        """The user's held jobs on the kiosk's queue and the follow-me queues, oldest first."""
        jobs = [
            job
            for job in self._jobs_on_our_queues()
            if job.username == username and self._is_waiting(job)
        ]
        return sorted(jobs, key=lambda job: (job.submitted_at, job.job_id))

    def waiting_jobs(self) -> list[HeldJob]:
        """Every job waiting on our queues, whoever sent it, oldest first (a spool agent
        reads them all; a kiosk lists one user's with :meth:`held_jobs`)."""
        jobs = [job for job in self._jobs_on_our_queues() if self._is_waiting(job)]
        return sorted(jobs, key=lambda job: (job.submitted_at, job.job_id))

    def _is_waiting(self, job: HeldJob) -> bool:
        """Held by its own job-hold-until anywhere, or merely pending on a follow-me queue
        (some sites hold follow-me jobs by keeping that queue stopped)."""
        return job.state == JOB_STATES[HELD] or (
            job.state == "pending" and job.queue in self.follow_me_queues
        )

    def job(self, job_id: int) -> HeldJob:
        """One job as the server describes it now, whatever its state."""
        return self._held_job(job_id, self._job(job_id))

    def _require_waiting(self, job_id: int) -> HeldJob:
        job = self.job(job_id)
        if not self._is_waiting(job):
            raise JobNotHeld(job_id, job.state)
        return job

    # -- changing a held job ----------------------------------------------------------

    def set_options(self, job_id: int, *, colour: bool, duplex: bool) -> None:
        """Set print-color-mode and sides on a held job (IPP Set-Job-Attributes)."""
        self._require_waiting(job_id)
        request = ipp.encode_request(
            ipp.SET_JOB_ATTRIBUTES,
            job_id,
            {
                "job-uri": ipp.attr(ipp.URI, f"ipp://{self.server}:{self.port}/jobs/{job_id}"),
                "requesting-user-name": ipp.attr(ipp.NAME, self._user),
            },
            job_attrs={
                "print-color-mode": ipp.attr(ipp.KEYWORD, "color" if colour else "monochrome"),
                "sides": ipp.attr(ipp.KEYWORD, DUPLEX if duplex else SIMPLEX),
            },
        )
        response = ipp.post(self.server, self.port, "/jobs", request, self.timeout_s)
        if not response.ok:
            raise self._translate("set job attributes", job_id, response.status, response.message)

    def cancel(self, job_id: int) -> None:
        self._call("cancel job", job_id, lambda c: c.cancelJob(job_id))

    def purge_older_than(self, max_age: timedelta, now: datetime | None = None) -> list[int]:
        """Cancel and purge (spool file included) every held or pending job on our queues
        submitted before ``now - max_age``; returns their ids. Nobody collects them, and
        the documents are personal data that should not stay in the spool."""
        cutoff = (now or datetime.now(UTC)) - max_age
        stale = [
            job.job_id
            for job in self._jobs_on_our_queues()
            if job.state in ("pending", "pending-held") and job.submitted_at < cutoff
        ]
        for job_id in stale:
            self._purge(job_id)
        return stale

    def _purge(self, job_id: int) -> None:
        self._call("purge job", job_id, lambda c: c.cancelJob(job_id, purge_job=True))

    # -- printer state ----------------------------------------------------------------

    def printer_status(self) -> PrinterStatus:
        """The kiosk queue's state, and its device's when ``check_device`` and ipp://."""
        attrs: dict[str, Any] = self._call(
            "get printer",
            None,
            lambda c: c.getPrinterAttributes(
                self.printer, requested_attributes=_PRINTER_ATTRIBUTES
            ),
        )
        state = PRINTER_STATES.get(int(_first(attrs.get("printer-state", 0))), "unknown")
        reasons = _reasons(attrs.get("printer-state-reasons", []))
        accepting = bool(_first(attrs.get("printer-is-accepting-jobs", True)))
        device = str(_first(attrs.get("device-uri", "")))
        problem = problem_of(state, reasons, accepting)
        if problem is None and self.check_device and device.startswith("ipp://"):
            try:
                device_state, device_reasons = self._device_state(device)
            except CupsUnavailable:
                # switched off or unplugged: CUPS would hold the job "connecting" for ever
                return PrinterStatus(
                    self.printer, state, (*reasons, "device-unreachable"), accepting,
                    "printer_offline",
                )
            problem = problem_of(device_state, device_reasons, True)
            reasons = reasons + tuple(r for r in device_reasons if r != "none")
        return PrinterStatus(self.printer, state, reasons, accepting, problem)

    def _device_state(self, device_uri: str) -> tuple[str, tuple[str, ...]]:
        parts = urlsplit(device_uri)
        request = ipp.encode_request(
            ipp.GET_PRINTER_ATTRIBUTES,
            1,
            {
                "printer-uri": ipp.attr(ipp.URI, device_uri),
                "requesting-user-name": ipp.attr(ipp.NAME, self._user),
                "requested-attributes": ipp.attr(
                    ipp.KEYWORD, "printer-state", "printer-state-reasons"
                ),
            },
        )
        response = ipp.post(
            parts.hostname or "localhost", parts.port or 631, parts.path or "/", request,
            self.timeout_s,
        )
        if not response.ok:
            raise CupsError(f"printer {device_uri} answered: {response.message}")
        attrs = response.group("printer")[0] if response.group("printer") else {}
        state = attrs.get("printer-state", [0])[0]
        reasons = tuple(str(r) for r in attrs.get("printer-state-reasons", []))
        return PRINTER_STATES.get(state if isinstance(state, int) else 0, "unknown"), reasons

    def printer_problem(self) -> str | None:
        return self.printer_status().problem

    # -- release ----------------------------------------------------------------------

    def release(self, job_id: int) -> None:
        """Print a held job on the kiosk's printer now.

        Raises :class:`PrinterNotReady` (job untouched, still held where it was) when the
        printer is stopped, jammed, out of toner...; :class:`JobNotHeld` when the job is
        not held any more.
        """
        job = self._require_waiting(job_id)
        status = self.printer_status()
        if status.problem is not None:
            raise PrinterNotReady(self.printer, status.problem, status.reasons)
        if job.queue != self.printer:
            self.pull(job_id)
        self._call("release job", job_id, lambda c: c.setJobHoldUntil(job_id, "no-hold"))

    def print_now(self, document: bytes, title: str, user: str,
                  document_format: str = "application/pdf") -> int:
        """Print ``document`` on the kiosk's queue at once as ``user`` (IPP Print-Job
        with ``job-hold-until=no-hold``, overriding a holding queue's default): the
        technician's test page. Returns the CUPS job id."""
        request = ipp.encode_request(
            ipp.PRINT_JOB, 1,
            {
                "printer-uri": ipp.attr(ipp.URI, self._queue_uri(self.printer)),
                "requesting-user-name": ipp.attr(ipp.NAME, user),
                "job-name": ipp.attr(ipp.NAME, title),
                "document-format": ipp.attr(ipp.MIME, document_format),
            },
            job_attrs={"job-hold-until": ipp.attr(ipp.KEYWORD, "no-hold")},
        )
        response = ipp.post(self.server, self.port, f"/printers/{self.printer}",
                            request + document, self.timeout_s)
        if not response.ok:
            raise self._translate("print job", None, response.status, response.message)
        for group in response.group("job"):
            job_id = _first(group.get("job-id"))
            if isinstance(job_id, int):
                return job_id
        raise CupsError(f"print job on {self._where}: the answer has no job-id")

    def pull(self, job_id: int) -> None:
        """Move a waiting job from a follow-me queue to the kiosk's queue, still held.

        :meth:`release` does this itself; on its own it lets a kiosk take a job over
        (say, to show it as local) with the guarantee that it prints only on release.
        """
        job = self._require_waiting(job_id)
        if job.queue == self.printer:
            return
        if job.queue not in self.follow_me_queues:
            raise CupsError(
                f"job {job.job_id} is on queue {job.queue!r}, which is neither {self.printer!r}"
                f" nor a follow-me queue ({', '.join(self.follow_me_queues) or 'none'})"
            )
        # pin the hold on the job itself: a job held only by a stopped queue would print
        # the moment it reaches an enabled one
        self._call("hold job", job_id, lambda c: c.setJobHoldUntil(job_id, "indefinite"))
        pinned = self.job(job_id)
        if pinned.state != JOB_STATES[HELD]:
            raise JobNotHeld(job_id, pinned.state)
        self._call(
            "move job",
            job_id,
            lambda c: c.moveJob(job_id=job_id, job_printer_uri=self._queue_uri(self.printer)),
        )
        moved = self.job(job_id)
        if moved.state != JOB_STATES[HELD]:
            raise CupsError(f"job {job_id} left the hold when moved ({moved.state})")

    # -- following a released job -----------------------------------------------------

    def progress(self, job_id: int) -> JobProgress:
        attrs: dict[str, Any] = self._call(
            "get job progress",
            job_id,
            lambda c: c.getJobAttributes(
                job_id,
                requested_attributes=[
                    "job-state",
                    "job-state-reasons",
                    "job-impressions-completed",
                    "job-media-sheets-completed",
                ],
            ),
        )
        return JobProgress(
            job_id=job_id,
            state=JOB_STATES.get(int(_first(attrs.get("job-state", 0))), "unknown"),
            impressions_completed=int(_first(attrs.get("job-impressions-completed", 0)) or 0),
            sheets_completed=int(_first(attrs.get("job-media-sheets-completed", 0)) or 0),
            reasons=_reasons(attrs.get("job-state-reasons", [])),
        )

    def follow(
        self, job_id: int, *, interval_s: float = 0.5, timeout_s: float = 600.0
    ) -> Iterator[JobProgress]:
        """Yield the job's progress each time it changes, ending with its final state.

        Stops with :class:`CupsError` after ``timeout_s`` without a final state, so a
        caller following a job on a printer nobody fixes is not stuck for ever.
        """
        deadline = time.monotonic() + timeout_s
        last: JobProgress | None = None
        while True:
            current = self.progress(job_id)
            if current != last:
                yield current
                last = current
            if current.finished:
                return
            if time.monotonic() > deadline:
                raise CupsError(f"job {job_id} still {current.state} after {timeout_s} s")
            time.sleep(interval_s)
