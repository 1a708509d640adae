"""Billing-code look-ups for the picker, off the Kivy thread, newest question wins.

Search as you type sends one question per key; answers can come back out of order on a
slow network, so each question gets a number and only the answer to the latest one is
shown. An empty search shows the user's recent codes instead. After the picker closes
(or the user leaves) every answer still on its way is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor

from kivy.clock import Clock

from terminal.ports import BillingCode, BillingCodeDirectory

_log = logging.getLogger(__name__)
RECENT_LIMIT = 5
SEARCH_LIMIT = 20


class CodeSearch:
    """Asks the directory on the executor; ``on_codes(query, codes)`` on the Kivy thread."""

    def __init__(
        self,
        directory: BillingCodeDirectory,
        executor: Executor,
        on_codes: Callable[[str, list[BillingCode]], None],
        on_error: Callable[[str], None],
    ) -> None:
        self._directory = directory
        self._executor = executor
        self._on_codes = on_codes
        self._on_error = on_error
        self._asked = 0

    def look(self, username: str, query: str) -> None:
        """Recent codes for an empty ``query``, else the codes starting with it."""
        self._asked += 1
        asked = self._asked
        directory = self._directory

        def work() -> None:
            try:
                if query:
                    codes = directory.search_billing_codes(username, query, SEARCH_LIMIT)
                else:
                    codes = directory.recent_billing_codes(username, RECENT_LIMIT)
            except Exception as exc:  # the backend is away or refused: say so on screen
                _log.warning("billing codes for %r failed: %r", query, exc)
                code = str(getattr(exc, "code", "backend_unavailable"))
                Clock.schedule_once(lambda _dt: self._deliver_error(asked, code))
                return
            Clock.schedule_once(lambda _dt: self._deliver(asked, query, codes))

        self._executor.submit(work)

    def end(self) -> None:
        """The picker closed: whatever is still on its way is not shown."""
        self._asked += 1

    def _deliver(self, asked: int, query: str, codes: list[BillingCode]) -> None:
        if asked == self._asked:
            self._on_codes(query, codes)

    def _deliver_error(self, asked: int, code: str) -> None:
        if asked == self._asked:
            self._on_error(code)
