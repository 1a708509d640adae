"""The ``stripe`` gateway, with the official ``stripe`` library.

* A payment is a Checkout Session (Stripe's hosted page): its id (``cs_...``) is the
  top-up's gateway payment id, and the top-up's public id rides along as
  ``client_reference_id`` and as metadata of the session and of its PaymentIntent, so
  that a webhook about either names the top-up.
* Webhooks are verified with ``stripe.Webhook.construct_event`` (signature and timestamp
  tolerance); the event id makes their handling idempotent (``backend.topups``).
* Status and refunds go through the PaymentIntent (found from the session when the id
  is a ``cs_...``).

Amounts: Stripe counts in the currency's minor unit; the ledger's currencies have two
decimals (cents), so 5.00 EUR is 500. Every error of the library becomes
:class:`GatewayError` or :class:`WebhookRejected` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import stripe

from backend.config import StripeSettings
from backend.payments.gateway import (
    CreatedPayment,
    EventKind,
    GatewayError,
    PaymentEvent,
    PaymentStatus,
    State,
    WebhookRejected,
)

CENTS = Decimal(100)
_SUCCEEDED = {"payment_intent.succeeded", "checkout.session.completed",
              "checkout.session.async_payment_succeeded"}
_FAILED = {"payment_intent.payment_failed", "checkout.session.async_payment_failed",
           "checkout.session.expired"}


def _minor(amount: Decimal) -> int:
    return int((amount * CENTS).to_integral_exact())


def _major(minor: int) -> Decimal:
    return (Decimal(minor) / CENTS).quantize(Decimal("0.01"))


def _read_secret(path: str | None, what: str) -> str:
    if not path:
        raise GatewayError(f"payments.stripe.{what}: not set")
    try:
        value = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise GatewayError(f"payments.stripe.{what}: {path}: cannot be read: {exc}") from exc
    if not value:
        raise GatewayError(f"payments.stripe.{what}: {path} is empty")
    return value


class StripeGateway:
    name = "stripe"

    def __init__(self, secret_key: str, webhook_secret: str,
                 api_base: str = "https://api.stripe.com", tolerance_s: int = 300) -> None:
        self._client = stripe.StripeClient(secret_key, base_addresses={"api": api_base},
                                           max_network_retries=1)
        self._webhook_secret = webhook_secret
        self._tolerance_s = tolerance_s

    @classmethod
    def from_settings(cls, settings: StripeSettings) -> StripeGateway:
        return cls(_read_secret(settings.secret_key_file, "secret_key_file"),
                   _read_secret(settings.webhook_secret_file, "webhook_secret_file"),
                   settings.api_base, settings.webhook_tolerance_s)

    def create_payment(self, top_up_id: str, amount: Decimal, currency: str,
                       description: str, return_url: str) -> CreatedPayment:
        metadata = {"top_up_id": top_up_id}
        try:
            session = self._client.v1.checkout.sessions.create(params={
                "mode": "payment",
                "line_items": [{"quantity": 1, "price_data": {
                    "currency": currency.lower(), "unit_amount": _minor(amount),
                    "product_data": {"name": description}}}],
                "client_reference_id": top_up_id,
                "metadata": metadata,
                "payment_intent_data": {"metadata": metadata, "description": description},
                "success_url": return_url,
                "cancel_url": return_url,
            }, options={"idempotency_key": f"topup-{top_up_id}"})
        except stripe.StripeError as exc:
            raise GatewayError(f"stripe: {exc.user_message or exc}") from exc
        if not session.url:
            raise GatewayError(f"stripe: checkout session {session.id} has no URL")
        return CreatedPayment(session.url, session.id)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> PaymentEvent | None:
        signature = {key.lower(): value for key, value in headers.items()}.get(
            "stripe-signature")
        if not signature:
            raise WebhookRejected("no Stripe-Signature header")
        try:
            event = stripe.Webhook.construct_event(body, signature, self._webhook_secret,
                                                   tolerance=self._tolerance_s)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"the Stripe signature does not verify: {exc}") from exc
        except ValueError as exc:
            raise WebhookRejected(f"not a Stripe event: {exc}") from exc
        kind: EventKind
        if event.type in _SUCCEEDED:
            kind = "succeeded"
        elif event.type in _FAILED:
            kind = "failed"
        else:
            return None
        obj: dict[str, Any] = event.data.object.to_dict()
        if obj.get("object") == "checkout.session":
            if kind == "succeeded" and obj.get("payment_status") != "paid":
                return None  # completed, but the money is not there yet (async methods)
            minor = obj.get("amount_total") or 0
        else:
            minor = obj.get("amount_received") or obj.get("amount") or 0
        metadata = obj.get("metadata") or {}
        return PaymentEvent(event_id=event.id, kind=kind, gateway_payment_id=obj["id"],
                            amount=_major(int(minor)),
                            currency=str(obj.get("currency", "")).upper(),
                            top_up_id=metadata.get("top_up_id")
                            or obj.get("client_reference_id"))

    def _intent_id(self, gateway_payment_id: str) -> str | None:
        if not gateway_payment_id.startswith("cs_"):
            return gateway_payment_id
        session = self._client.v1.checkout.sessions.retrieve(gateway_payment_id)
        intent = session.payment_intent
        return intent if isinstance(intent, str) or intent is None else intent.id

    def fetch_status(self, gateway_payment_id: str) -> PaymentStatus:
        try:
            intent_id = self._intent_id(gateway_payment_id)
            if intent_id is None:
                return PaymentStatus("pending", Decimal("0.00"), "")
            intent = self._client.v1.payment_intents.retrieve(intent_id)
        except stripe.StripeError as exc:
            raise GatewayError(f"stripe: {exc.user_message or exc}") from exc
        fields: dict[str, Any] = intent.to_dict()
        state: State = ("succeeded" if fields.get("status") == "succeeded" else
                        "failed" if fields.get("status") == "canceled" else "pending")
        # amount_received is what arrived (localstripe leaves it out: then the amount)
        minor = fields.get("amount_received") or fields.get("amount") or 0
        return PaymentStatus(state, _major(int(minor)), str(fields.get("currency", "")).upper())

    def refund(self, gateway_payment_id: str, amount: Decimal) -> str:
        try:
            intent_id = self._intent_id(gateway_payment_id)
            if intent_id is None:
                raise GatewayError(f"stripe: {gateway_payment_id} was never paid")
            refund = self._client.v1.refunds.create(params={
                "payment_intent": intent_id, "amount": _minor(amount)})
        except stripe.StripeError as exc:
            raise GatewayError(f"stripe: {exc.user_message or exc}") from exc
        return refund.id
