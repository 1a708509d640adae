"""The roles the terminal core talks to, as Protocols.

The core never imports a driver or an HTTP library's types: an adapter satisfies one of
these structurally, and :mod:`terminal.wiring` is the only place that picks adapters.
That keeps the session logic testable with the in-memory fakes of ``terminal.fakes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, Protocol


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
    """The backend answered and said no (4xx); ``code`` is its problem code.

    ``status`` is the HTTP status when there was one: the outbox must tell "this
    request is refused for good" (409 insufficient funds) from "this terminal may not
    talk now" (401, 429), after which the request must be kept and sent again.
    """

    def __init__(self, code: str, detail: str = "", status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.status = status

    @property
    def final(self) -> bool:
        """True when sending the same request again can never succeed."""
        return self.status not in RETRYABLE_REFUSALS and self.code not in RETRYABLE_CODES


# Refusals about the terminal or the moment, not about the request: keep and resend.
RETRYABLE_REFUSALS = frozenset({401, 408, 425, 429})
RETRYABLE_CODES = frozenset({"terminal_unauthorized", "terminal_revoked"})


class Backend(Protocol):
    """The accounting backend, as the terminal needs it."""

    def identify_card(self, card_number: str) -> Identity: ...

    def identify_pin(self, username: str, pin: str) -> Identity: ...

    def enrol_card(self, card_number: str, username: str, pin: str) -> Identity:
        """Link an unknown card to the user who proves who they are with username + PIN."""
        ...


@dataclass(frozen=True)
class BillingCode:
    """A code a user may charge a job to: a client, or a project of a client.

    ``client`` and ``client_name`` are None for a client itself (two levels only).
    ``payer`` says who pays a job charged to it: ``"user"`` (the user's own balance, the
    code only recorded) or ``"code"`` (the code's client; the user's balance untouched).
    """

    code: str
    name: str
    client: str | None = None
    client_name: str | None = None
    payer: str = "user"

    @property
    def path(self) -> tuple[str, ...]:
        """The hierarchy from the client down, as names: ("ACME Corp", "Website redesign")."""
        return (self.client_name or self.client or "", self.name) if self.client else (self.name,)


class DemoCard(NamedTuple):
    """A demo user as the demo idle screen lists them: the card to type, and for the
    username + PIN login, the username and PIN (empty when there is none to show)."""

    number: str
    name: str
    username: str = ""
    pin: str = ""


class BillingCodeDirectory(Protocol):
    """The billing codes a user may charge to (the backend's picker endpoints)."""

    def search_billing_codes(
        self, username: str, prefix: str, limit: int = 20
    ) -> list[BillingCode]:
        """Codes whose code or name starts with ``prefix`` (case-insensitive)."""
        ...

    def recent_billing_codes(self, username: str, limit: int = 5) -> list[BillingCode]:
        """The codes the user charged to most recently, newest first."""
        ...


class CardReader(Protocol):
    """A source of card numbers; calls ``on_card`` from its own thread for every read."""

    def start(self, on_card: Callable[[str], None]) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class HoldAnswer:
    """A hold the backend granted or settled; ``balance`` already shows its effect."""

    hold_id: str
    status: str
    amount: Decimal
    captured: Decimal | None
    released: Decimal | None
    balance: Balance


class Ledger(Protocol):
    """The backend's money-moving calls; every one carries the caller's idempotency key.

    A key is made when the write is *recorded* (in the outbox), never when it is sent,
    so a resend after a crash or a lost answer is the same request and moves money once.
    """

    def balance(self, username: str) -> Balance: ...

    def hold(
        self, key: str, username: str, amount: Decimal, description: str, job_ref: str,
        billing_code: str | None = None,
    ) -> HoldAnswer: ...

    def capture(
        self, key: str, hold_id: str, amount: Decimal, pages: int, colour_pages: int
    ) -> HoldAnswer: ...

    def void(self, key: str, hold_id: str, reason: str) -> HoldAnswer: ...

    def refund(self, key: str, hold_id: str, amount: Decimal | None, reason: str) -> Balance: ...

    def send_events(self, events: Sequence[Mapping[str, object]]) -> int:
        """Store a batch; return how many were new (the rest were resends)."""
        ...


class Supply(Protocol):
    """One consumable as the printer reports it (toner, drum, waste box, paper tray)."""

    @property
    def name(self) -> str: ...

    @property
    def level_percent(self) -> int | None: ...


class PrinterAlert(Protocol):
    """One active alert of the printer (paper jam, toner low, cover open...)."""

    @property
    def code(self) -> str: ...

    @property
    def severity(self) -> str: ...

    @property
    def description(self) -> str: ...


class PrinterMonitor(Protocol):
    """The printer's own view of itself (SNMP): counters, supplies and active alerts.

    The SNMP adapter in ``drivers`` returns its own types; they only need these
    attributes, so it satisfies this port without importing the terminal.
    """

    def counters(self) -> Mapping[str, int]: ...

    def supplies(self) -> Sequence[Supply]: ...

    def alerts(self) -> Sequence[PrinterAlert]: ...
