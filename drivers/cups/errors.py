"""The CUPS library's own exceptions: callers never see pycups' ``IPPError`` or ``OSError``.

Every foreign error is translated where it is caught and chained (``raise ... from exc``),
so the cause stays in the traceback while the caller catches one family, :class:`CupsError`.
"""

from __future__ import annotations


class CupsError(RuntimeError):
    """A request to the print server failed; the message names the operation and the job."""


class CupsUnavailable(CupsError):
    """The print server cannot be reached (connection refused, timeout): worth a retry."""


class JobNotFound(CupsError):
    """No such job on the server, or it already left the queue."""

    def __init__(self, job_id: int, detail: str = "") -> None:
        super().__init__(f"job {job_id} not found" + (f": {detail}" if detail else ""))
        self.job_id = job_id


class JobNotHeld(CupsError):
    """The job is not held (already printing, done or cancelled), so it cannot be changed."""

    def __init__(self, job_id: int, state: str) -> None:
        super().__init__(f"job {job_id} is {state}, not held")
        self.job_id = job_id
        self.state = state


class NotPermitted(CupsError):
    """The server's policy refuses the kiosk's user this operation on this job."""


class PrinterNotReady(CupsError):
    """The printer cannot take a job now; the job stays held.

    ``reason`` is a stable key for the user interface (``printer_stopped``,
    ``printer_jammed``, ``toner_empty``...); ``details`` are the IPP keywords behind it.
    """

    def __init__(self, printer: str, reason: str, details: tuple[str, ...]) -> None:
        super().__init__(
            f"printer {printer} not ready: {reason} ({', '.join(details) or 'no detail'})"
        )
        self.printer = printer
        self.reason = reason
        self.details = details
