"""In-memory fakes of the terminal's ports, for unit tests of the layers above.

Like python-escpos's ``Dummy``, each fake records what it was asked so a test can check
the conversation, not just the outcome. The real adapters are tested against real peers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future

from terminal.ports import BackendError, BackendRejected, Identity


class FakeBackend:
    """A backend that knows a fixed set of cards and PINs and records every call."""

    def __init__(
        self,
        cards: dict[str, Identity] | None = None,
        pins: dict[tuple[str, str], Identity] | None = None,
        failure: BackendError | None = None,
    ) -> None:
        self.cards = dict(cards or {})
        self.pins = dict(pins or {})
        self.failure = failure
        self.calls: list[tuple[str, ...]] = []
        self.gate: threading.Event | None = None

    def _answer(self, found: Identity | None, code: str) -> Identity:
        if self.gate is not None:
            self.gate.wait(timeout=10)
        if self.failure is not None:
            raise self.failure
        if found is None:
            raise BackendRejected(code)
        return found

    def identify_card(self, card_number: str) -> Identity:
        self.calls.append(("identify_card", card_number))
        return self._answer(self.cards.get(card_number), "card_unknown")

    def identify_pin(self, username: str, pin: str) -> Identity:
        self.calls.append(("identify_pin", username))
        return self._answer(self.pins.get((username, pin)), "pin_invalid")


class InlineExecutor(Executor):
    """Runs submitted work at once on the caller's thread: deterministic unit tests."""

    def submit(  # type: ignore[override]
        self, fn: Callable[..., object], /, *args: object, **kwargs: object
    ) -> Future[object]:
        future: Future[object] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # recorded on the future like a real executor would
            future.set_exception(exc)
        return future


class ManualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
