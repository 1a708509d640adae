"""The payment gateway port: what the top-up code asks of any gateway.

An adapter translates its gateway's errors into :class:`GatewayError` (the gateway cannot
be reached or refused the call: the API answers ``topup_unavailable``) and
:class:`WebhookRejected` (a webhook that is not provably from the gateway: 400, nothing
changed). No card data ever passes through here: the user pays on the gateway's page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

EventKind = Literal["succeeded", "failed"]
State = Literal["pending", "succeeded", "failed"]


class GatewayError(Exception):
    """The gateway could not do what was asked (down, refused, misconfigured)."""


class WebhookRejected(Exception):
    """A webhook whose signature or timestamp does not verify: answered 400, ignored."""


@dataclass(frozen=True)
class CreatedPayment:
    pay_url: str
    gateway_payment_id: str
    # What the kiosk renders as QR: None => the pay URL; bank_transfer: the EPC payload.
    qr_payload: str | None = None


@dataclass(frozen=True)
class PaymentEvent:
    """A verified webhook about one payment. ``top_up_id`` is our public id when the
    gateway echoes it (metadata); ``gateway_payment_id`` always names the payment."""

    event_id: str
    kind: EventKind
    gateway_payment_id: str
    amount: Decimal
    currency: str
    top_up_id: str | None = None
    fee: Decimal | None = None


@dataclass(frozen=True)
class PaymentStatus:
    """What the gateway says of a payment now (reconciliation)."""

    state: State
    amount: Decimal
    currency: str
    fee: Decimal | None = None


class PaymentGateway(Protocol):
    name: str

    def create_payment(self, top_up_id: str, amount: Decimal, currency: str,
                       description: str, return_url: str) -> CreatedPayment: ...

    def parse_webhook(self, body: bytes,
                      headers: Mapping[str, str]) -> PaymentEvent | None: ...

    def fetch_status(self, gateway_payment_id: str) -> PaymentStatus: ...

    def refund(self, gateway_payment_id: str, amount: Decimal) -> str: ...
