"""The stripe gateway's Checkout Session, which localstripe lacks: the exact request our
adapter sends, checked at the HTTP level against a local server standing in for
api.stripe.com (the form fields, the key, the idempotency key), and a refusal from it
translated to GatewayError. What this does not prove: that Stripe itself accepts the
request (docs/payments.md says what is tested against what)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

from backend.payments.gateway import GatewayError
from backend.payments.stripe_gateway import StripeGateway


class FakeStripeApi:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], dict[str, str]]] = []
        self.answer: tuple[int, dict[str, Any]] = (200, {})


@pytest.fixture
def api() -> Iterator[tuple[FakeStripeApi, str]]:
    fake = FakeStripeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            fake.requests.append(("POST", self.path, dict(parse_qsl(body)),
                                  {key.lower(): value for key, value in self.headers.items()}))
            status, answer = fake.answer
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_create_payment_sends_a_checkout_session_for_the_exact_amount(
        api: tuple[FakeStripeApi, str]) -> None:
    fake, url = api
    fake.answer = (200, {"id": "cs_test_a1", "object": "checkout.session",
                         "url": "https://checkout.stripe.com/c/pay/cs_test_a1"})
    gateway = StripeGateway("sk_test_key", "whsec_x", url)
    created = gateway.create_payment("T-ABC123", Decimal("12.50"), "EUR",
                                     "printkiosk top-up T-ABC123",
                                     "http://kiosk.example/pay/tok/done")
    assert (created.pay_url, created.gateway_payment_id, created.qr_payload) == (
        "https://checkout.stripe.com/c/pay/cs_test_a1", "cs_test_a1", None)
    method, path, form, headers = fake.requests[0]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert form == {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "1250",
        "line_items[0][price_data][product_data][name]": "printkiosk top-up T-ABC123",
        "client_reference_id": "T-ABC123",
        "metadata[top_up_id]": "T-ABC123",
        "payment_intent_data[metadata][top_up_id]": "T-ABC123",
        "payment_intent_data[description]": "printkiosk top-up T-ABC123",
        "success_url": "http://kiosk.example/pay/tok/done",
        "cancel_url": "http://kiosk.example/pay/tok/done",
    }
    assert headers["authorization"] == "Bearer sk_test_key"
    assert headers["idempotency-key"] == "topup-T-ABC123"  # a retry creates no second one


def test_a_refusal_from_stripe_is_a_gateway_error(api: tuple[FakeStripeApi, str]) -> None:
    fake, url = api
    fake.answer = (400, {"error": {"type": "invalid_request_error",
                                   "message": "Invalid currency: xyz"}})
    gateway = StripeGateway("sk_test_key", "whsec_x", url)
    with pytest.raises(GatewayError, match="stripe"):
        gateway.create_payment("T-X", Decimal("1.00"), "XYZ", "d", "http://k/done")


def _signed(payload: dict[str, Any], secret: str, at: int) -> tuple[bytes, dict[str, str]]:
    """Signed as Stripe signs (t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>"))."""
    import hashlib
    import hmac

    body = json.dumps(payload).encode()
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={at},v1={mac}"}


def test_a_completed_checkout_session_is_a_payment_of_its_total() -> None:
    import time

    gateway = StripeGateway("sk_test_key", "whsec_x", "http://127.0.0.1:9")
    event = {"id": "evt_cs_1", "object": "event", "type": "checkout.session.completed",
             "data": {"object": {"id": "cs_test_a1", "object": "checkout.session",
                                 "amount_total": 1250, "currency": "eur",
                                 "payment_status": "paid", "client_reference_id": "T-ABC",
                                 "metadata": {"top_up_id": "T-ABC"}}}}
    body, headers = _signed(event, "whsec_x", int(time.time()))
    parsed = gateway.parse_webhook(body, headers)
    assert parsed is not None
    assert (parsed.event_id, parsed.kind, parsed.gateway_payment_id, parsed.amount,
            parsed.currency, parsed.top_up_id) == ("evt_cs_1", "succeeded", "cs_test_a1",
                                                   Decimal("12.50"), "EUR", "T-ABC")
    # signed, but older than the tolerance (300 s): a replay from long ago
    from backend.payments.gateway import WebhookRejected

    old_body, old_headers = _signed(event, "whsec_x", int(time.time()) - 301)
    with pytest.raises(WebhookRejected):
        gateway.parse_webhook(old_body, old_headers)
    unpaid = {**event, "data": {"object": {**event["data"]["object"],  # type: ignore[dict-item]
                                           "payment_status": "unpaid"}}}
    assert gateway.parse_webhook(*_signed(unpaid, "whsec_x", int(time.time()))) is None
