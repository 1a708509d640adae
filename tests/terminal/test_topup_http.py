"""The top-up calls of the HTTP client against a real backend process with the demo
gateway: options, a start resent with its key (one top-up), limits refused with them,
the long-poll woken by a payment on the simulated page, cancel, and the desk offline."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from backend_process import BackendProcess

from backend.demo import DEMO_TERMINAL_TOKEN
from terminal.backend_client import HttpBackend
from terminal.ports import TopUp, TopUpRefusal
from terminal.topups import OFFLINE, TopUpDesk


@pytest.fixture
def client(backend_process: BackendProcess) -> Iterator[HttpBackend]:
    backend = HttpBackend(backend_process.url, DEMO_TERMINAL_TOKEN)
    backend.identify_card("1002")  # Bob: his session goes with every top-up call
    yield backend
    backend.close()


def press(pay_url: str, action: str) -> requests.Response:
    """What the phone does on the simulated page: open it, press Pay or Decline."""
    with requests.Session() as phone:
        page = phone.get(pay_url, timeout=5)
        page.raise_for_status()
        assert "SIMULATED PAYMENT" in page.text
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found is not None, page.text
        return phone.post(pay_url, data={"csrf": found.group(1), "action": action},
                          timeout=5)


def test_options_and_a_start_resent_with_its_key_is_one_top_up(client: HttpBackend) -> None:
    options = client.topup_options("bob")
    assert options.gateway == "demo" and options.currency == "EUR"
    assert options.minimum <= options.presets[0] <= options.maximum
    first = client.create_topup("bob", Decimal("5.00"), "test-key-1")
    again = client.create_topup("bob", Decimal("5.00"), "test-key-1")
    assert isinstance(first, TopUp) and isinstance(again, TopUp)
    assert again.topup_id == first.topup_id and first.pending
    assert first.qr_payload.startswith("http") and "/pay/" in first.qr_payload
    assert first.expires_at.tzinfo is not None and first.short_code
    too_much = client.create_topup("bob", options.maximum + 1, "test-key-2")
    assert too_much == TopUpRefusal("topup_amount", options.minimum, options.maximum)


def test_the_long_poll_answers_pending_after_its_wait_then_paid_as_soon_as_paid(
        client: HttpBackend) -> None:
    before = client.balance("bob").available
    topup = client.create_topup("bob", Decimal("2.00"), "test-key-3")
    assert isinstance(topup, TopUp)
    began = time.monotonic()
    assert client.wait_topup("bob", topup.topup_id, wait_s=1).pending
    assert time.monotonic() - began >= 0.9, "held by the backend, not answered at once"
    paid_at: list[float] = []

    def phone_pays() -> None:
        time.sleep(0.5)
        answer = press(topup.pay_url, "pay")
        paid_at.append(time.monotonic())
        assert answer.status_code < 400, answer.text

    payer = threading.Thread(target=phone_pays)
    payer.start()
    paid = client.wait_topup("bob", topup.topup_id, wait_s=20)
    seen_at = time.monotonic()
    payer.join()
    assert paid.status == "paid" and paid.balance is not None
    assert paid.balance.available == before + Decimal("2.00")
    assert seen_at - paid_at[0] < 1.0, "the long-poll woke with the payment"
    # cancelling a paid top-up leaves it paid
    assert client.cancel_topup("bob", topup.topup_id).status == "paid"
    assert client.balance("bob").available == before + Decimal("2.00")


def test_cancel_and_decline_end_a_top_up_and_credit_nothing(client: HttpBackend) -> None:
    before = client.balance("bob").available
    cancelled = client.create_topup("bob", Decimal("3.00"), "test-key-4")
    declined = client.create_topup("bob", Decimal("4.00"), "test-key-5")
    assert isinstance(cancelled, TopUp) and isinstance(declined, TopUp)
    assert client.cancel_topup("bob", cancelled.topup_id).status == "cancelled"
    press(declined.pay_url, "decline")
    assert client.wait_topup("bob", declined.topup_id, wait_s=5).status == "failed"
    assert client.balance("bob").available == before


def test_the_desk_refuses_at_once_when_the_backend_is_gone(
        backend_process: BackendProcess, client: HttpBackend) -> None:
    desk = TopUpDesk(client)
    backend_process.stop()
    began = time.monotonic()
    assert desk.options("bob") == TopUpRefusal(OFFLINE)
    assert desk.start("bob", Decimal("5.00")) == TopUpRefusal(OFFLINE)
    assert time.monotonic() - began < 12
