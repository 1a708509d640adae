"""What the 3D follower tells the backend while a print runs: its progress and run-outs.

Both are events journalled in the kiosk's outbox (``ChargeBook.record_event``) and sent
by the drainer to ``POST /events``, like every report: one made while the backend is
away is sent when it returns, in order, before the print's settlement.

- ``print3d_progress`` ``{"job_id", "percent", "time_left_s", "file_position",
  "print_time_s"}``: the backend records the user's nearly-done mail from it when the
  site's threshold is reached (the kiosk does not know the threshold). Not every poll
  is reported (a print of ten hours polled every 2 s would be 18 000 events): the first
  one, then whenever the percent moved on by :data:`STEP_PERCENT` or
  :data:`EVERY_S` went by, so a 15-minute threshold is seen within 3 minutes.
- ``alert`` in the shape of the printer alerts of ``terminal.reporting`` (``active``,
  ``raised``, ``cleared`` lists of ``{"code", "severity", "description"}``) with the code
  ``filament_runout``: raised when the printer reports a run-out during our print,
  cleared when it prints again after a pause, or when the print ends. The backend turns
  those into administrator mails (the device part). A kiosk restarted mid-print does
  not know whether it had raised one: it sends a "cleared" at the end all the same
  (clearing an alert that is not raised changes nothing), so none stays raised for ever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from terminal.ports import EventJournal

STEP_PERCENT = 5.0
EVERY_S = 180.0
RUNOUT = "filament_runout"


def _runout_alert(job_id: int) -> dict[str, str]:
    return {"code": RUNOUT, "severity": "critical",
            "description": f"filament run-out on the 3D printer (job {job_id})"}


class Print3DReports:
    """Turns the follower's polls into progress and run-out events for one print at a
    time (the follower calls :meth:`progress`, :meth:`events` and :meth:`ended`)."""

    def __init__(self, journal: EventJournal, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self._journal = journal
        self._clock = clock
        self._job: int | None = None
        self._last_percent: float | None = None
        self._last_at = 0.0
        self._runout = False
        self._paused_since_runout = False
        self._clear_at_end = False

    def resumed(self, job_id: int) -> None:
        """Following ``job_id`` again after a restart: whether a run-out was raised
        before is not known, so its end clears one."""
        self._job, self._clear_at_end = job_id, True

    def progress(self, job_id: int, state: str, percent: float | None,
                 time_left_s: int | None, file_position: int | None,
                 print_time_s: int | None) -> None:
        """One poll of our running print; journalled when it is news enough."""
        if job_id != self._job:
            self._job, self._last_percent, self._last_at = job_id, None, 0.0
        if self._runout:
            if state == "paused":
                self._paused_since_runout = True
            elif state == "printing" and self._paused_since_runout:
                self._clear(job_id)  # resumed after the filament was changed
        now = self._clock()
        due = (self._last_percent is None
               or (percent is not None and percent - self._last_percent >= STEP_PERCENT)
               or now - self._last_at >= EVERY_S)
        if not due:
            return
        self._last_percent = percent if percent is not None else self._last_percent or 0.0
        self._last_at = now
        self._journal.record_event("print3d_progress", {
            "job_id": job_id, "percent": None if percent is None else round(percent, 1),
            "time_left_s": time_left_s, "file_position": file_position,
            "print_time_s": print_time_s})

    def events(self, job_id: int, events: Sequence[str]) -> None:
        """The printer's events of this poll: a run-out raises the alert (once)."""
        if RUNOUT in events and not self._runout:
            self._runout, self._paused_since_runout = True, False
            alert = _runout_alert(job_id)
            self._journal.record_event("alert", {"active": [alert], "raised": [alert],
                                                 "cleared": []})

    def ended(self, job_id: int) -> None:
        """The print ended (settled): a run-out still raised is cleared."""
        if self._runout or self._clear_at_end:
            self._clear(job_id)
        self._job, self._clear_at_end = None, False

    def _clear(self, job_id: int) -> None:
        self._runout = self._paused_since_runout = self._clear_at_end = False
        self._journal.record_event("alert", {"active": [], "raised": [],
                                             "cleared": [_runout_alert(job_id)]})
