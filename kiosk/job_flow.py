"""The identified user's jobs on screen: load, change, delete and release them off-thread.

Listing jobs asks the print server and analyses documents, and release follows a job
for minutes, so every call runs on the terminal's executor and its result comes back to
the Kivy thread through ``Clock.schedule_once``. Each user's session gets a new
generation: a result that arrives after logout (or for the previous user) is dropped,
so nothing of one person's jobs can appear on the next person's screen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TypeVar

from kivy.clock import Clock

from terminal.jobs import JobList, JobOptions, JobQuote, JobService
from terminal.ports import Balance
from terminal.release import ReleaseUpdate, ReleaseWorkflow

_log = logging.getLogger(__name__)
T = TypeVar("T")


class JobFlow:
    """Runs job work in the background for the current user; callbacks on the Kivy thread."""

    def __init__(
        self,
        jobs: JobService,
        release: ReleaseWorkflow,
        executor: Executor,
        on_jobs: Callable[[JobList], None],
        on_jobs_error: Callable[[str], None],
        on_release: Callable[[ReleaseUpdate], None],
        on_activity: Callable[[], None],
    ) -> None:
        self._jobs = jobs
        self._release = release
        self._executor = executor
        self._on_jobs = on_jobs
        self._on_jobs_error = on_jobs_error
        self._on_release = on_release
        self._on_activity = on_activity
        self._generation = 0
        self.username: str | None = None
        self.latest_balance: Balance | None = None
        self.releasing = False

    def begin(self, username: str) -> None:
        """A user was identified: load their jobs."""
        self._generation += 1
        self.username = username
        self.latest_balance = None
        self.releasing = False
        self.refresh()

    def end(self) -> None:
        """The user left: forget them and ignore whatever is still on its way."""
        self._generation += 1
        self.username = None
        self.latest_balance = None
        self.releasing = False

    def refresh(self) -> None:
        if self.username is not None:
            username = self.username
            self._run(lambda: self._jobs.list_jobs(username))

    def change(self, job_id: int, options: JobOptions) -> None:
        if self.username is not None:
            username = self.username
            self._run(lambda: self._jobs.change_options(username, job_id, options))

    def delete(self, job_id: int) -> None:
        if self.username is not None:
            username = self.username
            self._run(lambda: self._jobs.delete(username, job_id))

    def release(self, quotes: list[JobQuote], billing_code: str | None = None) -> None:
        """Release in order, charged to ``billing_code`` if one was picked; every update
        reaches ``on_release`` on the Kivy thread."""
        if self.username is None or not quotes or self.releasing:
            return
        self.releasing = True
        generation = self._generation
        username = self.username

        def listener(update: ReleaseUpdate) -> None:
            Clock.schedule_once(lambda _dt: self._deliver_update(generation, update))

        def work() -> None:
            try:
                self._release.release(username, quotes, listener, billing_code)
            finally:
                Clock.schedule_once(lambda _dt: self._released(generation))

        self._executor.submit(work)

    def _deliver_update(self, generation: int, update: ReleaseUpdate) -> None:
        if generation != self._generation:
            return
        if update.balance is not None:
            self.latest_balance = update.balance
        self._on_activity()  # someone is watching the printer: no idle logout meanwhile
        self._on_release(update)

    def _released(self, generation: int) -> None:
        if generation == self._generation:
            self.releasing = False
            self.refresh()

    def _run(self, call: Callable[[], JobList]) -> None:
        generation = self._generation

        def work() -> None:
            try:
                listed = call()
            except Exception as exc:  # the print server or a document failed: say so
                _log.warning("job list failed: %r", exc)
                code = str(getattr(exc, "code", "jobs_unavailable"))
                Clock.schedule_once(lambda _dt: self._deliver_error(generation, code))
                return
            Clock.schedule_once(lambda _dt: self._deliver_jobs(generation, listed))

        self._executor.submit(work)

    def _deliver_jobs(self, generation: int, listed: JobList) -> None:
        if generation == self._generation and listed.username == self.username:
            self._on_jobs(listed)

    def _deliver_error(self, generation: int, code: str) -> None:
        if generation == self._generation:
            self._on_jobs_error(code)
