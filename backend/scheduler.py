"""The in-process quota refill schedule: a daemon thread that runs ``refill_due`` every
``refill.check_interval_s``. Running it in several backend processes at once is safe
(see ``backend.refill``): each period is refilled exactly once."""

from __future__ import annotations

import logging
import threading

from backend.db import Database
from backend.refill import refill_due

log = logging.getLogger(__name__)


class RefillScheduler:
    def __init__(self, db: Database, currency: str, interval_s: float) -> None:
        self._db = db
        self._currency = currency
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="refill", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with self._db.write() as session:
                    refilled = refill_due(session, self._currency)
                if refilled:
                    log.info("quota refill: %d users refilled", refilled)
            except Exception:  # keep the schedule alive; the next tick retries
                log.exception("quota refill failed")
            self._stop.wait(self._interval_s)
