"""The kiosk's top-up API and the demo gateway's page (issue 14): options, creation
with limits and idempotency, the long-poll woken by a payment on the demo page, cancel,
the page's CSRF token, banner and autoescaping, and webhooks refused with 400."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from backend_fixtures import SECRET, Backend
from fastapi.testclient import TestClient
from topup_helpers import personal

from backend.app import create_app
from backend.config import BackendConfig
from backend.db import Database
from backend.demo import seed_demo
from backend.payments.demo_gateway import BANNER

PAYMENTS = {"gateway": "demo", "public_base_url": "http://kiosk.test:8470",
            "demo": {"enabled": True}}


@pytest.fixture
def paying(db: Database) -> Iterator[Backend]:
    """A backend whose gateway is the demo one."""
    config = BackendConfig.model_validate({"database": {"url": str(db.engine.url)},
                                           "payments": PAYMENTS})
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, config.ledger.currency)
    with TestClient(app) as client:
        yield Backend(config, db, client)


def create(backend: Backend, amount: str = "5.00", user: str = "bob",
           key: str | None = None) -> tuple[int, dict[str, Any]]:
    answer = backend.client.post("/api/v1/topups", headers=backend.headers(user=user),
                                 json={"amount": amount,
                                       "idempotency_key": key or str(uuid.uuid4())})
    return answer.status_code, answer.json()


def page_path(top_up: dict[str, Any]) -> str:
    assert top_up["pay_url"].startswith("http://kiosk.test:8470/pay/")
    return top_up["pay_url"].removeprefix("http://kiosk.test:8470")


def pay(backend: Backend, top_up: dict[str, Any], action: str = "pay") -> str:
    page = backend.client.get(page_path(top_up))
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    answer = backend.client.post(page_path(top_up), content=f"csrf={csrf[1]}&action={action}",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    return answer.text


def test_options_come_from_the_config(paying: Backend) -> None:
    answer = paying.client.get("/api/v1/topups/options", headers=paying.headers())
    assert answer.json() == {"gateway": "demo", "currency": "EUR", "min": "1.00",
                             "max": "100.00", "presets": ["2.00", "5.00", "10.00", "20.00"],
                             "expires_after_s": 600}


def test_without_a_gateway_top_ups_are_unavailable(backend: Backend) -> None:
    answer = backend.client.get("/api/v1/topups/options", headers=backend.headers())
    assert (answer.status_code, answer.json()["code"]) == (503, "topup_unavailable")
    status, body = create(backend)
    assert (status, body["code"]) == (503, "topup_unavailable")


def test_an_amount_outside_the_limits_is_refused_with_them(paying: Backend) -> None:
    status, body = create(paying, "100.01")
    assert (status, body["code"], body["min"], body["max"]) == (422, "topup_amount", "1.00",
                                                                 "100.00")
    assert create(paying, "0.99")[0] == 422


def test_a_top_up_needs_the_users_session(paying: Backend) -> None:
    answer = paying.client.post("/api/v1/topups", headers=paying.headers(),
                                json={"amount": "5.00", "idempotency_key": "k" * 10})
    assert answer.status_code == 401


def test_paying_on_the_demo_page_wakes_the_long_poll_and_credits_once(
        paying: Backend) -> None:
    before = personal(paying.db, "bob")
    status, body = create(paying, "5.00")
    assert status == 201, body
    top_up = body["topup"]
    assert (top_up["status"], top_up["amount"], top_up["qr_payload"]) == (
        "pending", "5.00", top_up["pay_url"])
    assert re.fullmatch(r"[0-9A-Z]{6}", top_up["short_code"])
    answers: list[tuple[float, dict[str, Any]]] = []

    def long_poll() -> None:
        got = paying.client.get(f"/api/v1/topups/{top_up['id']}?wait_s=20",
                                headers=paying.headers(user="bob"))
        answers.append((time.monotonic(), got.json()))

    waiting = threading.Thread(target=long_poll)
    waiting.start()
    time.sleep(0.5)
    assert not answers  # still waiting
    page = pay(paying, top_up)
    paid_at = time.monotonic()
    assert BANNER in page and "is paid" in page
    waiting.join(timeout=10)
    woke_at, answer = answers[0]
    assert woke_at - paid_at < 2.0
    assert answer["topup"]["status"] == "paid"
    assert Decimal(answer["balance"]["personal_credit"]) == before + Decimal("5.00")
    pay_again = paying.client.post(page_path(top_up), content="csrf=x&action=pay",
                                   headers={"Content-Type":
                                            "application/x-www-form-urlencoded"})
    assert pay_again.status_code == 403  # no CSRF token: refused before anything
    assert personal(paying.db, "bob") == before + Decimal("5.00")


def test_the_same_idempotency_key_gives_the_same_top_up(paying: Backend) -> None:
    first = create(paying, "5.00", key="kiosk-key-1")[1]["topup"]
    again = create(paying, "5.00", key="kiosk-key-1")[1]["topup"]
    assert again == first
    status, body = create(paying, "6.00", key="kiosk-key-1")
    assert (status, body["code"]) == (409, "idempotency_key_reused")


def test_a_long_poll_on_a_pending_top_up_returns_after_wait_s(paying: Backend) -> None:
    top_up = create(paying)[1]["topup"]
    started = time.monotonic()
    answer = paying.client.get(f"/api/v1/topups/{top_up['id']}?wait_s=1",
                               headers=paying.headers(user="bob")).json()
    assert 0.9 < time.monotonic() - started < 3
    assert (answer["topup"]["status"], answer["balance"]) == ("pending", None)
    # another user's session cannot see it
    other = paying.client.get(f"/api/v1/topups/{top_up['id']}",
                              headers=paying.headers(user="alice"))
    assert (other.status_code, other.json()["code"]) == (404, "topup_unknown")


def test_decline_fails_the_top_up_and_cancel_then_refuses_nothing_else(
        paying: Backend) -> None:
    top_up = create(paying)[1]["topup"]
    assert "declined" in pay(paying, top_up, "decline")
    answer = paying.client.get(f"/api/v1/topups/{top_up['id']}",
                               headers=paying.headers(user="bob")).json()
    assert answer["topup"]["status"] == "failed"
    second = create(paying)[1]["topup"]
    cancelled = paying.client.post(f"/api/v1/topups/{second['id']}/cancel",
                                   headers=paying.headers(user="bob"))
    assert cancelled.json()["topup"]["status"] == "cancelled"
    page = paying.client.get(page_path(second))
    assert page.status_code == 410 and "cancelled" in page.text and BANNER in page.text


def test_a_paid_top_up_cannot_be_cancelled(paying: Backend) -> None:
    top_up = create(paying)[1]["topup"]
    pay(paying, top_up)
    answer = paying.client.post(f"/api/v1/topups/{top_up['id']}/cancel",
                                headers=paying.headers(user="bob"))
    assert (answer.status_code, answer.json()["code"]) == (409, "topup_settled")


def test_an_unknown_token_gets_a_clear_page_with_the_banner(paying: Backend) -> None:
    page = paying.client.get("/pay/no-such-token<script>")
    assert page.status_code == 404 and BANNER in page.text and "<script>" not in page.text


def test_the_page_escapes_what_it_shows(paying: Backend) -> None:
    from backend.payments import demo_gateway

    html = demo_gateway._TEMPLATES.get_template("demo_message.html").render(
        banner=BANNER, title="<b>x</b>", message="<script>")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_demo_gateway_refuses_any_webhook(paying: Backend) -> None:
    answer = paying.client.post("/api/v1/payments/webhooks/demo", content=b"{}")
    assert (answer.status_code, answer.json()["code"]) == (400, "webhook_rejected")
    other = paying.client.post("/api/v1/payments/webhooks/stripe", content=b"{}")
    assert other.status_code in (401, 404)


def test_the_demo_page_is_absent_unless_the_demo_gateway_is_configured(
        backend: Backend) -> None:
    assert backend.client.get("/pay/anything").status_code == 404
    assert BANNER not in backend.client.get("/pay/anything").text
