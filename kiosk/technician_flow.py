"""The technician desk's calls off the Kivy thread; each answer comes back on it.

Every desk call may block for seconds (the kiosk file, CUPS, an SNMP agent, the
backend), so it runs on an executor of its own: a slow SNMP probe must not delay a
badge's identification on the terminal's executor. An answer arriving after the
technician left (or after the terminal was rebuilt) is dropped, like the voucher flow's:
the next person never sees it. A call that raises is a bug of the layer below; the
screen is told ``failed`` with the exception's words rather than left waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Protocol, TypeVar

from kivy.clock import Clock

from terminal.technician_types import TechnicianDesk

_log = logging.getLogger(__name__)
T = TypeVar("T")


class DerivingDesk(TechnicianDesk, Protocol):
    """The desk with the card-normalisation helper CORE adds beyond the Protocol: three
    (raw, printed) pairs -> the settings that normalise so, or the problem in words."""

    def derive_normalisation(
        self, pairs: Sequence[tuple[str, str]]) -> Mapping[str, str] | str: ...


class TechnicianFlow:
    """Runs ``call()`` on the executor and hands its result to ``on_done`` on the Kivy
    thread, or the exception's text to ``on_failed``."""

    def __init__(self, desk: TechnicianDesk, executor: Executor) -> None:
        self.desk = desk
        self._executor = executor
        self._asked = 0

    def run(self, call: Callable[[], T], on_done: Callable[[T], None],
            on_failed: Callable[[str], None]) -> None:
        asked = self._asked

        def work() -> None:
            try:
                answer = call()
            except Exception as exc:  # a bug below must not leave the screen waiting
                _log.exception("technician desk call failed")
                problem = f"{type(exc).__name__}: {exc}"
                Clock.schedule_once(lambda _dt: self._deliver(asked, on_failed, problem))
                return
            Clock.schedule_once(lambda _dt: self._deliver(asked, on_done, answer))

        self._executor.submit(work)

    def end(self) -> None:
        """The technician left: what is still on its way is not shown."""
        self._asked += 1

    def _deliver(self, asked: int, to: Callable[[T], None], answer: T) -> None:
        if asked == self._asked:
            to(answer)
