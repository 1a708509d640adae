"""The backend's scheduled work, in the server process: each task is a daemon thread that
runs its job every ``interval_s``. Running them in several backend processes at once is
safe: every job is exactly-once by its own mechanism (see ``backend.refill`` and
``backend.holds_expiry``), so a second process only finds nothing left to do."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicTask:
    """``job`` returns how many things it did (logged when not zero)."""

    def __init__(self, name: str, interval_s: float, job: Callable[[], int],
                 done: str) -> None:
        self._name = name
        self._interval_s = interval_s
        self._job = job
        self._done = done
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                count = self._job()
                if count:
                    log.info("%s: %d %s", self._name, count, self._done)
            except Exception:  # keep the schedule alive; the next tick retries
                log.exception("%s failed", self._name)
            self._stop.wait(self._interval_s)
