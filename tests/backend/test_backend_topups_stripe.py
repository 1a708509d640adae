"""The stripe gateway against a real localstripe (its PaymentIntent path) and a real
backend process: create + confirm -> signed webhook -> credited once; a replay credits
once; a bad signature is 400 and changes nothing; a wrong amount is flagged; a refund
reverses the ledger; a missed webhook is recovered by reconciliation. On SQLite and
PostgreSQL. (Checkout Sessions, which localstripe lacks: test_backend_topups_checkout.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import stripe
from backend_fixtures import SECRET
from stripe_emulator import (
    API_KEY,
    WEBHOOK_SECRET,
    Localstripe,
    backend_paying_through,
    running_localstripe,
)
from topup_helpers import make_top_up, personal, status

from backend import topups
from backend.app import prepare_database
from backend.db import Database
from backend.demo import seed_demo
from backend.models import TopUp
from backend.payments.stripe_gateway import StripeGateway
from backend.topup_reconcile import reconcile


@pytest.fixture(scope="session")
def localstripe() -> Iterator[Localstripe]:
    with running_localstripe() as emulator:
        yield emulator


@pytest.fixture
def gateway(localstripe: Localstripe) -> StripeGateway:
    return StripeGateway(API_KEY, WEBHOOK_SECRET, localstripe.url)


@pytest.fixture
def client(localstripe: Localstripe) -> stripe.StripeClient:
    """Stripe as the phone's side sees it: the payment made on the gateway's page."""
    return stripe.StripeClient(API_KEY, base_addresses={"api": localstripe.url})


@pytest.fixture
def backend_url(db: Database, tmp_path: Path, localstripe: Localstripe) -> Iterator[str]:
    """A real backend process on the test database, its gateway the localstripe one,
    receiving localstripe's signed webhooks."""
    prepare_database(db, "EUR")
    seed_demo(db, SECRET, "EUR")
    with backend_paying_through(localstripe, db.engine.url.render_as_string(False),
                                tmp_path) as url:
        yield url


def intent_for(client: stripe.StripeClient, top_up: TopUp | None, amount: str) -> str:
    intent = client.v1.payment_intents.create(params={
        "amount": int(Decimal(amount) * 100), "currency": "eur",
        "payment_method": "pm_card_visa",
        "metadata": {"top_up_id": top_up.public_id if top_up else "none"}})
    return intent.id


def wait_for(db: Database, top_up: TopUp, wanted: str, timeout_s: float = 15) -> TopUp:
    deadline = time.monotonic() + timeout_s
    while True:
        found = status(db, top_up)
        if found.status == wanted or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_confirmed_payment_credits_once_and_a_replay_or_forgery_changes_nothing(
        db: Database, backend_url: str, client: stripe.StripeClient,
        localstripe: Localstripe) -> None:
    before = personal(db, "bob")
    intent = intent_for(client, None, "5.00")
    top_up = make_top_up(db, amount="5.00", gateway="stripe", payment_id=intent)
    assert client.v1.payment_intents.confirm(intent).status == "succeeded"
    assert wait_for(db, top_up, "paid").status == "paid"
    assert personal(db, "bob") == before + Decimal("5.00")
    body, signature = localstripe.next_hook("payment_intent.succeeded")
    while f'"{intent}"' not in body.decode():
        body, signature = localstripe.next_hook("payment_intent.succeeded")
    webhook = f"{backend_url}/api/v1/payments/webhooks/stripe"
    replay = httpx.post(webhook, content=body, headers={"Stripe-Signature": signature,
                                                        "Content-Type": "application/json"})
    assert replay.status_code == 200 and replay.json() == {"result": "duplicate"}
    forged = body.rstrip().removesuffix(b"}") + b" }"  # same JSON, other bytes
    bad = httpx.post(webhook, content=forged, headers={"Stripe-Signature": signature})
    assert (bad.status_code, bad.json()["code"]) == (400, "webhook_rejected")
    timestamp = signature.split(",")[0]
    wrong = httpx.post(webhook, content=body,
                       headers={"Stripe-Signature": f"{timestamp},v1={'0' * 64}"})
    assert wrong.status_code == 400
    unsigned = httpx.post(webhook, content=body)
    assert unsigned.status_code == 400
    assert personal(db, "bob") == before + Decimal("5.00")


def test_a_payment_of_another_amount_is_flagged_not_credited(
        db: Database, backend_url: str, client: stripe.StripeClient) -> None:
    before = personal(db, "bob")
    intent = intent_for(client, None, "0.50")
    top_up = make_top_up(db, amount="5.00", gateway="stripe", payment_id=intent)
    client.v1.payment_intents.confirm(intent)
    found = wait_for(db, top_up, "mismatch")
    assert (found.status, found.flag, found.paid_amount) == ("mismatch", "amount_mismatch",
                                                            Decimal("0.50"))
    assert personal(db, "bob") == before


def test_a_refund_goes_to_stripe_and_reverses_the_ledger(
        db: Database, backend_url: str, client: stripe.StripeClient,
        gateway: StripeGateway) -> None:
    before = personal(db, "bob")
    intent = intent_for(client, None, "10.00")
    top_up = make_top_up(db, amount="10.00", gateway="stripe", payment_id=intent)
    client.v1.payment_intents.confirm(intent)
    assert wait_for(db, top_up, "paid").status == "paid"
    with db.write() as session:
        topups.refund_top_up(session, top_up, gateway, Decimal("4.00"), "asked", "admin")
    assert personal(db, "bob") == before + Decimal("6.00")
    refunds = client.v1.refunds.list(params={"payment_intent": intent}).data
    assert [refund.amount for refund in refunds] == [400]


def test_a_missed_webhook_is_recovered_by_reconciliation(
        db: Database, client: stripe.StripeClient, gateway: StripeGateway) -> None:
    """No backend process listens for this database: the webhook is lost."""
    prepare_database(db, "EUR")
    seed_demo(db, SECRET, "EUR")
    before = personal(db, "bob")
    intent = intent_for(client, None, "5.00")
    top_up = make_top_up(db, amount="5.00", gateway="stripe", payment_id=intent)
    pending = intent_for(client, None, "2.00")
    waiting = make_top_up(db, amount="2.00", gateway="stripe", payment_id=pending)
    client.v1.payment_intents.confirm(intent)
    later = topups.utcnow() + timedelta(minutes=6)
    done = {item.public_id: item for item in reconcile(db, gateway, timedelta(minutes=5),
                                                       now=later)}
    assert (done[top_up.public_id].state, done[top_up.public_id].result) == ("succeeded",
                                                                             "credited")
    assert done[waiting.public_id].state == "pending"
    assert personal(db, "bob") == before + Decimal("5.00")
    assert status(db, waiting).status == "pending"
    # the same round again: every top-up was claimed for it, nobody asks twice
    assert reconcile(db, gateway, timedelta(minutes=5), now=later) == []
