"""The top-up calls of the HTTP client on the wire, where the real backend cannot be made
to misbehave on demand: a long-poll held longer than the read timeout still answers, and
a 503 ``topup_unavailable`` is the backend's answer (a refusal), not the backend gone.

(The calls against the real backend process are in test_topup_http.py.)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from terminal.backend_client import HttpBackend
from terminal.ports import BackendUnavailable, TopUpRefusal

TOPUP = {"id": "t1", "status": "pending", "amount": "5.00", "currency": "EUR",
         "short_code": "7KQ2MX", "qr_payload": "http://192.0.2.1/pay/abc",
         "pay_url": "http://192.0.2.1/pay/abc", "expires_at": "2026-12-01T16:40:00Z"}


class _Contract(BaseHTTPRequestHandler):
    """Answers like the backend would: the long-poll holds ``wait_s`` then says paid."""

    held: ClassVar[list[str]] = []
    stall_s: ClassVar[float] = 0.0  # held beyond what was asked

    def do_GET(self) -> None:
        if self.path.startswith("/api/v1/topups/bank?"):  # no page to pay on: a GiroCode
            self._answer(200, {"topup": dict(TOPUP, pay_url=None, qr_payload="BCD\n002"),
                               "balance": None})
        elif "wait_s=" in self.path:
            self.held.append(self.path)
            time.sleep(min(float(self.path.rsplit("=", 1)[1]), 2.0) + self.stall_s)
            balance = {"currency": "EUR", "virtual_credit": "0.00",
                       "personal_credit": "6.50", "held": "0.00", "available": "6.50"}
            self._answer(200, {"topup": dict(TOPUP, status="paid"), "balance": balance})
        else:
            self._answer(503, {"code": "topup_unavailable", "detail": "no gateway"})

    def do_POST(self) -> None:
        self._answer(503, {"code": "topup_unavailable", "detail": "the gateway is down"})

    def _answer(self, status: int, body: dict[str, object]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json" if status >= 400
                         else "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def client() -> Iterator[HttpBackend]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Contract)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    backend = HttpBackend(f"http://127.0.0.1:{server.server_address[1]}", "t",
                          read_timeout_s=0.5, backoff_s=0.01)
    yield backend
    backend.close()
    server.shutdown()


def test_a_long_poll_held_longer_than_the_read_timeout_still_gets_its_answer(
        client: HttpBackend) -> None:
    began = time.monotonic()
    paid = client.wait_topup("alice", "t1", wait_s=1.2)  # asked as 2 whole seconds
    assert time.monotonic() - began >= 2.0
    assert paid.status == "paid" and paid.balance is not None
    assert paid.balance.available == Decimal("6.50")
    assert paid.expires_at.tzinfo is not None
    assert _Contract.held[-1] == "/api/v1/topups/t1?wait_s=2"
    client.wait_topup("alice", "t1", wait_s=45)  # the contract's cap is 30 s
    assert _Contract.held[-1] == "/api/v1/topups/t1?wait_s=30"


def test_a_bank_transfer_has_no_page_to_pay_on(client: HttpBackend) -> None:
    transfer = client.wait_topup("alice", "bank", wait_s=0)
    assert transfer.pay_url is None and transfer.qr_payload == "BCD\n002"


def test_a_long_poll_that_gets_no_answer_in_time_is_unavailable(client: HttpBackend) -> None:
    _Contract.stall_s = 1.0  # the backend holds beyond wait_s + the read timeout
    try:
        with pytest.raises(BackendUnavailable):
            client.wait_topup("alice", "t1", wait_s=0.2)  # 1 s, + 1 s stall > 1.5 s
    finally:
        _Contract.stall_s = 0.0


def test_a_gateway_the_backend_cannot_use_is_a_refusal_and_the_backend_stays_reachable(
        client: HttpBackend) -> None:
    refused = client.create_topup("alice", Decimal("5.00"), "k1")
    assert refused == TopUpRefusal("topup_unavailable")
    assert client.reachable is True
