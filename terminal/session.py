"""The user session state machine: who is at the kiosk right now.

idle -> identifying -> identified -> idle (logout, idle timeout). One user at a time: a
card presented while someone is identified is ignored, so a badge brushing the reader
never switches the account under a user's finger. Backend calls run on a worker thread
(never on the UI thread) and a result that arrives after the user has left, or after a
newer request, is dropped: a generation counter makes stale answers harmless, so the
next person never sees the previous one's name or balance.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from enum import Enum

from terminal.ports import Backend, BackendError, Identity

_log = logging.getLogger(__name__)


class SessionState(Enum):
    IDLE = "idle"
    IDENTIFYING = "identifying"
    IDENTIFIED = "identified"


@dataclass(frozen=True)
class SessionView:
    """Everything the UI may show about the session; the UI renders this and nothing else."""

    state: SessionState
    identity: Identity | None = None
    error: str | None = None
    seconds_left: int | None = None


Listener = Callable[[SessionView], None]


class SessionController:
    """Owns the session state; thread-safe, notifies listeners on every change."""

    def __init__(
        self,
        backend: Backend,
        executor: Executor,
        clock: Callable[[], float],
        idle_timeout_s: float,
        warning_s: float,
    ) -> None:
        self._backend = backend
        self._executor = executor
        self._clock = clock
        self._idle_timeout_s = idle_timeout_s
        self._warning_s = warning_s
        self._lock = threading.Lock()
        self._view = SessionView(SessionState.IDLE)
        self._generation = 0
        self._last_activity = clock()
        self._listeners: list[Listener] = []

    @property
    def view(self) -> SessionView:
        with self._lock:
            return self._view

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def present_card(self, card_number: str) -> None:
        """A card was read: identify it unless someone is already at the kiosk."""
        number = card_number.strip()
        if not number:
            return
        self._begin(lambda: self._backend.identify_card(number))

    def login_with_pin(self, username: str, pin: str) -> None:
        self._begin(lambda: self._backend.identify_pin(username.strip(), pin))

    def touch(self) -> None:
        """The user did something: push the idle timeout back."""
        with self._lock:
            self._last_activity = self._clock()
            if self._view.seconds_left is not None:
                self._view = replace(self._view, seconds_left=None)
                view = self._view
            else:
                return
        self._notify(view)

    def logout(self) -> None:
        with self._lock:
            self._generation += 1
            self._view = SessionView(SessionState.IDLE)
            view = self._view
        self._notify(view)

    def tick(self) -> None:
        """Called about once a second: count down and log out an idle user."""
        with self._lock:
            if self._view.state is not SessionState.IDENTIFIED:
                return
            idle_for = self._clock() - self._last_activity
            remaining = self._idle_timeout_s - idle_for
            if remaining > self._warning_s:
                return
        if remaining <= 0:
            self.logout()
            return
        with self._lock:
            self._view = replace(self._view, seconds_left=max(1, round(remaining)))
            view = self._view
        self._notify(view)

    def _begin(self, call: Callable[[], Identity]) -> None:
        with self._lock:
            if self._view.state is not SessionState.IDLE:
                return
            self._generation += 1
            generation = self._generation
            self._view = SessionView(SessionState.IDENTIFYING)
            view = self._view
        self._notify(view)
        self._executor.submit(self._identify, call, generation)

    def _identify(self, call: Callable[[], Identity], generation: int) -> None:
        try:
            identity: Identity | None = call()
            error: str | None = None
        except BackendError as exc:
            identity, error = None, exc.code
        except Exception:  # a bug must not leave the kiosk stuck on "identifying"
            _log.exception("identification failed unexpectedly")
            identity, error = None, "internal_error"
        with self._lock:
            if generation != self._generation:
                return
            if identity is None:
                self._view = SessionView(SessionState.IDLE, error=error)
            else:
                self._view = SessionView(SessionState.IDENTIFIED, identity=identity)
                self._last_activity = self._clock()
            view = self._view
        self._notify(view)

    def _notify(self, view: SessionView) -> None:
        for listener in list(self._listeners):
            listener(view)
