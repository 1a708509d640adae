"""The shape every card reader of this library shares, and the helpers they all use.

A reader is an object with ``start(on_read)`` and ``stop()``. ``start`` returns at once;
the reader calls ``on_read(CardRead)`` from its own background thread for every accepted
read, so a consumer without an event loop (the terminal core) only needs a thread-safe
callback. A callback was preferred to an iterator because every adapter already owns a
thread (pcscd, evdev and FIFOs all block) and a callback lets ``stop()`` end that thread
without the consumer having to drain anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardRead:
    """One card presented: ``raw`` as the reader gave it, before any normalisation.

    ``reader`` names the physical reader (PC/SC reader name, input device path, "simulated"),
    ``card_type`` is what the ATR list says when the reader can tell (PC/SC only), and
    ``at`` is the wall-clock time of the read (``time.time()``).
    """

    raw: str
    reader: str
    card_type: str | None
    at: float


class ReaderChange(Enum):
    """Things a reader reports besides card reads, for diagnostics and the technician menu."""

    READER_ADDED = "reader_added"
    READER_REMOVED = "reader_removed"
    CARD_INSERTED = "card_inserted"
    CARD_REMOVED = "card_removed"
    CARD_UNREADABLE = "card_unreadable"
    SERVICE_LOST = "service_lost"


@dataclass(frozen=True)
class ReaderEvent:
    """A change seen by a reader: what happened, to which reader, and a detail for logs."""

    change: ReaderChange
    reader: str
    detail: str = ""


ReadCallback = Callable[[CardRead], None]
EventCallback = Callable[[ReaderEvent], None]


class CardSource(Protocol):
    """What every adapter here provides; ``on_read`` is called from the reader's thread."""

    def start(self, on_read: ReadCallback) -> None: ...

    def stop(self) -> None: ...


class Debouncer:
    """Drops a card seen again within ``interval_s`` of its last accepted read.

    A card held on a reader, or a wedge reader that repeats itself, must not log a user in
    twice. The clock is injected so tests need no sleeping; it must be monotonic.
    """

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if interval_s < 0:
            raise ValueError(f"debounce interval {interval_s!r} is negative")
        self._interval_s = interval_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def accept(self, card: str) -> bool:
        """True when ``card`` should be reported now (and remember that it was)."""
        now = self._clock()
        with self._lock:
            self._last = {k: t for k, t in self._last.items() if now - t < self._interval_s}
            if card in self._last:
                return False
            self._last[card] = now
            return True


def deliver(callback: Callable[[T], None], item: T) -> None:
    """Call a consumer's callback so that its exception never kills the reader's thread."""
    try:
        callback(item)
    except Exception:
        log.exception("card reader callback %r failed on %r", callback, item)


class ChangeReporter:
    """Turns an adapter's ``(change, reader, detail)`` into a :class:`ReaderEvent` for the
    consumer's ``on_change``, if it gave one, through :func:`deliver` like every callback."""

    def __init__(self, on_change: EventCallback | None) -> None:
        self._on_change = on_change

    def __call__(self, change: ReaderChange, reader: str, detail: str = "") -> None:
        if self._on_change is not None:
            deliver(self._on_change, ReaderEvent(change, reader, detail))


class ReaderThread:
    """The background thread of one reader object, and the event that asks it to end.

    Every adapter starts its loop the same way (once, as a daemon, so a forgotten reader
    never keeps the kiosk process alive) and stops it the same way (ask, wake it if it is
    blocked, join); only what wakes a blocked loop differs, so that is the one parameter.
    """

    def __init__(self, name: str, label: str) -> None:
        self.stopping = threading.Event()
        self._name = name
        self._label = label
        self._thread: threading.Thread | None = None

    def start(self, target: Callable[[], None]) -> None:
        """Run ``target`` in a new thread; a reader is started at most once at a time."""
        if self._thread is not None:
            raise RuntimeError(f"{self._label} already started")
        self.stopping.clear()
        self._thread = threading.Thread(target=target, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, wake: Callable[[], None] | None = None) -> None:
        """Ask the loop to end, call ``wake`` to interrupt a blocking wait, and join it."""
        self.stopping.set()
        if wake is not None:
            wake()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
