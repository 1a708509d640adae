"""The roles the terminal core talks to, as Protocols.

The core never imports a driver or an HTTP library's types: an adapter satisfies one of
these structurally, and :mod:`terminal.wiring` is the only place that picks adapters.
That keeps the session logic testable with the in-memory fakes of ``terminal.fakes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class Balance:
    """What the user may spend, as the backend sees it (amounts in the account currency)."""

    currency: str
    virtual_credit: Decimal
    personal_credit: Decimal
    held: Decimal
    available: Decimal


@dataclass(frozen=True)
class Identity:
    """A user the backend recognised, with the balance at the moment of identification."""

    username: str
    display_name: str
    language: str
    balance: Balance


class BackendError(Exception):
    """Base of the errors a :class:`Backend` raises; ``code`` is a stable translatable key."""

    code = "backend_error"


class BackendUnavailable(BackendError):
    """The backend could not be reached or failed (timeouts, connection errors, 5xx)."""

    code = "backend_unavailable"


class BackendRejected(BackendError):
    """The backend answered and said no (4xx); ``code`` is its problem code."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class Backend(Protocol):
    """The accounting backend, as the terminal needs it."""

    def identify_card(self, card_number: str) -> Identity: ...

    def identify_pin(self, username: str, pin: str) -> Identity: ...


class CardReader(Protocol):
    """A source of card numbers; calls ``on_card`` from its own thread for every read."""

    def start(self, on_card: Callable[[str], None]) -> None: ...

    def stop(self) -> None: ...
