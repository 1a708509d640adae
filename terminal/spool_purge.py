"""Purge held jobs nobody released: personal documents must not stay in the spool.

A job printed to a hold queue and never collected would keep its document in the print
server's spool for ever. The kiosk purges (cancel with ``purge-job``, so the spool file
goes too) every job waiting on its queues for longer than ``[printer] spool_max_age_h``,
once at start and then every ``interval_s``, on its own thread. Several kiosks on one
print server may all purge: a job purged by another is simply no longer listed.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from terminal.ports import PrintServerError, SpoolPurge

_log = logging.getLogger(__name__)


class SpoolPurger:
    """Runs :meth:`purge_once` at start and every ``interval_s`` until stopped."""

    def __init__(self, queue: SpoolPurge, max_age: timedelta, interval_s: float = 3600.0) -> None:
        self.queue = queue
        self.max_age = max_age
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spool-purge", daemon=True)

    def purge_once(self) -> list[int]:
        """Purge now; a print server that cannot be asked is tried again next time."""
        try:
            purged = list(self.queue.purge_older_than(self.max_age))
        except PrintServerError as exc:
            _log.warning("stale held jobs not purged this time: %s", exc)
            return []
        if purged:
            _log.info("purged %d held job(s) older than %s: %s", len(purged), self.max_age,
                      purged)
        return purged

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.purge_once()
            self._stop.wait(self.interval_s)
