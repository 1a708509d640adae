"""The identified user's 3D jobs on screen: list, release and cancel them off-thread.

Listing asks the backend, a release downloads and uploads a file and a cancel talks to
the printer: each runs on the terminal's job executor and comes back to the Kivy thread
through ``Clock.schedule_once``. A listing that arrives after logout (or for the
previous user) is dropped by its generation. The follower's updates (the print goes on
after the user left) come from its own thread, and are handed over the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from kivy.clock import Clock

from terminal.ports import Print3DJob
from terminal.print3d import Print3DDesk, Print3DListingFailed
from terminal.print3d_values import Print3DUpdate

_log = logging.getLogger(__name__)


class Print3DFlow:
    """Runs 3D work in the background; every callback on the Kivy thread."""

    def __init__(
        self,
        desk: Print3DDesk,
        executor: Executor,
        on_jobs: Callable[[Sequence[Print3DJob]], None],
        on_jobs_error: Callable[[str], None],
        on_update: Callable[[Print3DUpdate], None],
    ) -> None:
        self._desk = desk
        self._executor = executor
        self._on_jobs = on_jobs
        self._on_jobs_error = on_jobs_error
        self._on_update = on_update
        self._generation = 0
        self.username: str | None = None
        self.releasing = False
        desk.follower.subscribe(self._from_follower)

    def begin(self, username: str) -> None:
        self._generation += 1
        self.username = username
        self.refresh()

    def end(self) -> None:
        self._generation += 1
        self.username = None

    def refresh(self) -> None:
        if self.username is None:
            return
        username, generation = self.username, self._generation

        def work() -> None:
            try:
                jobs = self._desk.list_jobs(username)
            except Print3DListingFailed as exc:
                code = exc.code
                Clock.schedule_once(lambda _dt: self._deliver_error(generation, code))
                return
            except Exception:  # a bug must still say something on screen
                _log.exception("3D job listing failed")
                Clock.schedule_once(lambda _dt: self._deliver_error(generation,
                                                                   "jobs_unavailable"))
                return
            Clock.schedule_once(lambda _dt: self._deliver_jobs(generation, jobs))

        self._executor.submit(work)

    def release(self, job: Print3DJob) -> None:
        """Release ``job`` for the current user; updates reach ``on_update``."""
        if self.username is None or self.releasing:
            return
        self.releasing = True
        username = self.username

        def work() -> None:
            try:
                self._desk.release(username, job, self._from_follower)
            finally:
                Clock.schedule_once(lambda _dt: self._released())

        self._executor.submit(work)

    def cancel(self) -> None:
        """Ask the printer to cancel the print (confirmed by the user on screen)."""
        self._executor.submit(self._desk.cancel)

    def _released(self) -> None:
        self.releasing = False
        self.refresh()

    def _from_follower(self, update: Print3DUpdate) -> None:
        Clock.schedule_once(lambda _dt: self._on_update(update))

    def _deliver_jobs(self, generation: int, jobs: Sequence[Print3DJob]) -> None:
        if generation == self._generation:
            self._on_jobs(jobs)

    def _deliver_error(self, generation: int, code: str) -> None:
        if generation == self._generation:
            self._on_jobs_error(code)
