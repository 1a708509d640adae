"""Top-ups off the Kivy thread: options, start, the long-poll for the payment, cancel.

Every call to the backend runs on the terminal's executor (the one vouchers use) and its
answer comes back on the Kivy thread. Waiting for the payment is one long-poll task at a
time: when it answers "still pending" the next one is submitted, so a long wait holds one
worker for one poll at a time, never the executor for the whole ten minutes, and a badge
or a cancel in between finds a worker free. The desk stretches an early answer to a
second, so nothing here asks faster than once a second.

What arrives after the user left, or after this top-up was given up (a new one, a new
visit), is dropped: the next person never sees the previous one's payment. A payment that
lands then is credited all the same by the backend, to the user who started it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kivy.clock import Clock

from terminal.ports import TopUp, TopUpOptions, TopUpRefusal
from terminal.topups import TopUpDesk

_log = logging.getLogger(__name__)

# after the QR's expiry, keep asking this long for the backend's last word (a payment
# confirmed at the last second, or the backend's own "expired")
GRACE = timedelta(seconds=30)


class TopUpFlow:
    """Asks the desk on the executor; the callbacks run on the Kivy thread."""

    def __init__(self, desk: TopUpDesk, executor: Executor,
                 on_options: Callable[[TopUpOptions | TopUpRefusal], None],
                 on_started: Callable[[TopUp | TopUpRefusal], None],
                 on_update: Callable[[TopUp], None],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._desk = desk
        self._executor = executor
        self._on_options = on_options
        self._on_started = on_started
        self._on_update = on_update
        self._now = now
        self._asked = 0

    def options(self, username: str) -> None:
        self._run(lambda: self._desk.options(username), self._on_options,
                  TopUpRefusal("internal_error"))

    def start(self, username: str, amount: Decimal) -> None:
        """Start a top-up; once started, follow it until it is no longer pending."""
        def started(answer: TopUp | TopUpRefusal) -> None:
            self._on_started(answer)
            if isinstance(answer, TopUp) and answer.pending:
                self._follow(username, answer, self._asked)

        self._run(lambda: self._desk.start(username, amount), started,
                  TopUpRefusal("internal_error"))

    def cancel(self, username: str, topup: TopUp) -> None:
        """Cancel; the answer (cancelled, or paid if the payment won) is an update."""
        def cancelled(answer: TopUp | TopUpRefusal) -> None:
            if isinstance(answer, TopUp):
                self._on_update(answer)

        self._run(lambda: self._desk.cancel(username, topup), cancelled,
                  TopUpRefusal("internal_error"))

    def end(self) -> None:
        """The user left (or gave this top-up up): nothing still on its way is shown."""
        self._asked += 1

    def _follow(self, username: str, topup: TopUp, asked: int) -> None:
        """One long-poll; its answer shown, and the next one asked while pending."""
        desk = self._desk

        def work() -> None:
            try:
                latest = desk.wait(username, topup)
            except Exception:  # a bug must not end the wait silently: ask again
                _log.exception("waiting for top-up %s failed unexpectedly", topup.topup_id)
                latest = topup
            Clock.schedule_once(lambda _dt: self._waited(username, asked, latest))

        self._executor.submit(work)

    def _waited(self, username: str, asked: int, latest: TopUp) -> None:
        if asked != self._asked:
            return
        self._on_update(latest)
        if latest.pending and self._now() < latest.expires_at + GRACE:
            self._follow(username, latest, asked)

    def _run(self, call: Callable[[], TopUp | TopUpOptions | TopUpRefusal],
             deliver: Callable[[TopUp | TopUpRefusal], None] | Callable[
                 [TopUpOptions | TopUpRefusal], None],
             failed: TopUpRefusal) -> None:
        asked = self._asked

        def work() -> None:
            try:
                answer = call()
            except Exception:  # a bug must not leave the screen waiting for ever
                _log.exception("top-up call failed unexpectedly")
                answer = failed
            Clock.schedule_once(lambda _dt: self._deliver(asked, answer, deliver))

        self._executor.submit(work)

    def _deliver(self, asked: int, answer: object, deliver: Callable[..., None]) -> None:
        if asked == self._asked:
            deliver(answer)
