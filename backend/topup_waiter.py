"""Long-polls on top-ups, across backend processes: one waiter thread per process.

Why a thread polling the database and not a notification: a webhook (or the demo page,
or the reconciliation job) may settle the top-up in any backend process, and SQLite has
no LISTEN/NOTIFY. So each process has one daemon thread that, while anyone waits, reads
the status of the top-ups waited for (one query for all of them) every ``interval_s``
and wakes the waiters of those no longer pending. The cost is one small query per
process per 200 ms while someone waits, never one per client; the thread sleeps when
nobody waits.

The waiting requests are asyncio futures, not threads: a long-poll holds no worker of
the thread pool while it waits, so 25 s long-polls cannot starve holds and captures.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict

from sqlalchemy import select

from backend.db import Database
from backend.models import TopUp

log = logging.getLogger(__name__)
INTERVAL_S = 0.2


class TopUpWaiter:
    def __init__(self, db: Database, interval_s: float = INTERVAL_S) -> None:
        self._db = db
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._waiting: dict[str, list[tuple[asyncio.AbstractEventLoop,
                                            asyncio.Future[None]]]] = defaultdict(list)
        self._someone = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def wait(self, public_id: str, timeout_s: float) -> bool:
        """Until the top-up leaves ``pending`` (True) or ``timeout_s`` passes (False)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        with self._lock:
            self._waiting[public_id].append(entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="top-up waiter",
                                                daemon=True)
                self._thread.start()
        self._someone.set()
        try:
            await asyncio.wait_for(future, timeout_s)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                entries = self._waiting.get(public_id, [])
                if entry in entries:
                    entries.remove(entry)
                if not entries:
                    self._waiting.pop(public_id, None)

    def stop(self) -> None:
        self._stop.set()
        self._someone.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                ids = list(self._waiting)
                if not ids:
                    self._someone.clear()
            if not ids:
                self._someone.wait()
                continue
            try:
                self._poll(ids)
            except Exception:  # the database away for a moment: the next round retries
                log.exception("top-up waiter: polling failed")
            self._stop.wait(self._interval_s)

    def _poll(self, ids: list[str]) -> None:
        with self._db.read() as session:
            settled = set(session.scalars(select(TopUp.public_id).where(
                TopUp.public_id.in_(ids), TopUp.status != "pending")))
        if not settled:
            return
        with self._lock:
            woken = [entry for public_id in settled for entry in self._waiting.pop(public_id,
                                                                                    [])]
        for loop, future in woken:
            loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
