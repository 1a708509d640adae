"""The CUPS library's own value types: what a held job and a job's progress look like.

They mirror IPP's attributes closely (keywords are kept as IPP spells them) and add the
few booleans a kiosk asks about (``colour``, ``duplex``), so callers never handle
pycups' dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# RFC 8011 job-state enum values and their keywords
JOB_STATES = {
    3: "pending",
    4: "pending-held",
    5: "processing",
    6: "processing-stopped",
    7: "canceled",
    8: "aborted",
    9: "completed",
}
HELD = 4
FINISHED_STATES = frozenset({"canceled", "aborted", "completed"})
MONOCHROME_MODES = frozenset({"monochrome", "process-monochrome", "auto-monochrome"})
DUPLEX = "two-sided-long-edge"
SIMPLEX = "one-sided"


@dataclass(frozen=True)
class HeldJob:
    """One job held on the print server, with what a cost estimate needs.

    ``color_mode`` and ``sides`` are ``None`` when the job did not say, i.e. the queue's
    default applies; ``colour`` then answers True (it *may* print in colour), so an
    estimate never comes out lower than what gets charged. ``document`` is the spool file
    when this process can read it (kiosk and CUPS on one host), else ``None``.
    ``uuid`` (IPP job-uuid) names the job across servers and moves, where ``job_id`` is
    only unique on one server: the print-server analysis hook reports estimates by it.
    """

    job_id: int
    uuid: str
    name: str
    username: str
    queue: str
    submitted_at: datetime
    state: str
    pages: int | None
    copies: int
    number_up: int
    color_mode: str | None
    sides: str | None
    media: str | None
    size_bytes: int
    document: Path | None

    @property
    def colour(self) -> bool:
        return self.color_mode not in MONOCHROME_MODES

    @property
    def duplex(self) -> bool:
        return self.sides is not None and self.sides.startswith("two-sided")


@dataclass(frozen=True)
class JobProgress:
    """Where a released job is: IPP job-state keyword, impressions and sheets done, reasons."""

    job_id: int
    state: str
    impressions_completed: int
    sheets_completed: int
    reasons: tuple[str, ...]

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES


@dataclass(frozen=True)
class PrinterStatus:
    """A printer's state as IPP reports it, and the kiosk's verdict.

    ``problem`` is ``None`` when a job may be released to it, else a stable key
    (see :mod:`drivers.cups.printer_state`).
    """

    printer: str
    state: str
    reasons: tuple[str, ...]
    accepting_jobs: bool
    problem: str | None
