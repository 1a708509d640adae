"""A gateway for unit tests of the layer above the adapters (``backend.topups``,
``backend.topup_reconcile``): it answers what the test sets and records what it was
asked. The real adapters are tested against localstripe and the demo page."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from decimal import Decimal

from backend.payments.gateway import CreatedPayment, PaymentEvent, PaymentStatus


class FakeGateway:
    name = "test"

    def __init__(self) -> None:
        self.refunds: list[tuple[str, Decimal]] = []
        self.statuses: dict[str, PaymentStatus] = {}
        self.asked: list[str] = []
        self._lock = threading.Lock()

    def create_payment(self, top_up_id: str, amount: Decimal, currency: str,
                       description: str, return_url: str) -> CreatedPayment:
        return CreatedPayment(f"https://pay.example/{top_up_id}", f"pay_{top_up_id}")

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> PaymentEvent | None:
        return None

    def fetch_status(self, gateway_payment_id: str) -> PaymentStatus:
        with self._lock:
            self.asked.append(gateway_payment_id)
        return self.statuses.get(gateway_payment_id,
                                 PaymentStatus("pending", Decimal("0.00"), "EUR"))

    def refund(self, gateway_payment_id: str, amount: Decimal) -> str:
        self.refunds.append((gateway_payment_id, amount))
        return f"re_{len(self.refunds)}"
