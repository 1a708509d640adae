"""Payment requests: an issued statement e-mailed with a payment link, paid through the
Stripe emulator (localstripe) and a real backend process receiving its signed webhook,
once (a replay changes nothing); reminders on the configured days, each exactly once,
stopping when cancelled; the mails read back from a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import stripe
from client_plan_helpers import add_plan, at, captured_job, make_client, migrated, simple_plan
from smtp_peer import Mailbox, deliver_all
from sqlalchemy import func, select
from stripe_emulator import API_KEY, Localstripe, backend_paying_through

from backend.db import Database
from backend.models import AuditEntry, Client, PaymentRequest
from backend.payments.demo_gateway import DemoGateway
from backend.payments.gateway import CreatedPayment, PaymentEvent
from backend.statements.errors import StatementError
from backend.statements.generate import Period, generate_draft
from backend.statements.requests import (
    apply_payment_event,
    cancel_request,
    new_reference,
    record_request,
    send_reminders,
    send_request,
)
from backend.statements.status import change, find_statement

OCT = Period(date(2026, 10, 1), date(2026, 11, 1))
ISSUED = at(date(2026, 11, 2))


def issued_statement(db: Database, language: str = "fr") -> str:
    """ACME's October statement, issued: 1000 mono pages at 0.05 + 10 fee = 60.00."""
    migrated(db)
    make_client(db, "ACME", billing_code="ACME", email="accounts@acme.test",
                language=language)
    add_plan(db, "ACME", simple_plan(OCT.start, fee="10"), OCT.start)
    captured_job(db, "ACME", at(date(2026, 10, 7)), mono=1000, colour=0)
    with db.write() as session:
        client = session.scalar(select(Client).where(Client.code == "ACME"))
        assert client is not None
        statement = generate_draft(session, client, OCT, actor="test", now=ISSUED)
        change(session, statement, "issued", actor="test", now=ISSUED)
        return statement.number


@pytest.fixture
def backend_url(db: Database, tmp_path: Path, localstripe: Localstripe) -> Iterator[str]:
    """A real backend process on the test database, its gateway localstripe's."""
    migrated(db)
    with backend_paying_through(localstripe, db.engine.url.render_as_string(False),
                                tmp_path) as url:
        yield url


def status_of(db: Database, number: str) -> str:
    with db.read() as session:
        return find_statement(session, number).status


def test_a_statement_paid_through_stripe_is_paid_once(
        db: Database, backend_url: str, localstripe: Localstripe, mailbox: Mailbox) -> None:
    number = issued_statement(db)
    phone = stripe.StripeClient(API_KEY, base_addresses={"api": localstripe.url})
    reference = new_reference()
    # The payment the gateway holds for the request, carrying its reference as a top-up's
    # payment carries the top-up's id (localstripe has PaymentIntents, not Checkout).
    intent = phone.v1.payment_intents.create(params={
        "amount": 6000, "currency": "eur", "payment_method": "pm_card_visa",
        "metadata": {"top_up_id": reference}})
    with db.write() as session:
        request = record_request(session, find_statement(session, number), "stripe",
                                 CreatedPayment(f"{localstripe.url}/pay/{intent.id}",
                                                intent.id),
                                 reference=reference, actor="test", now=ISSUED)
        pay_url = request.pay_url
    assert deliver_all(db, mailbox.config(db)) == 1
    [mail] = mailbox.to("accounts@acme.test")
    assert mail["Subject"] == f"Relevé {number} : 60,00 € à régler"
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert pay_url in body and "du 1 octobre 2026 au 31 octobre 2026" in body
    assert phone.v1.payment_intents.confirm(intent.id).status == "succeeded"
    deadline = time.monotonic() + 15
    while status_of(db, number) != "paid" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status_of(db, number) == "paid"
    body_bytes, signature = localstripe.next_hook("payment_intent.succeeded")
    while f'"{intent.id}"'.encode() not in body_bytes:
        body_bytes, signature = localstripe.next_hook("payment_intent.succeeded")
    webhook = f"{backend_url}/api/v1/payments/webhooks/stripe"
    replay = httpx.post(webhook, content=body_bytes, headers={
        "Stripe-Signature": signature, "Content-Type": "application/json"})
    assert replay.status_code == 200 and replay.json() == {"result": "duplicate"}
    forged = httpx.post(webhook, content=body_bytes.replace(b"6000", b"6001"),
                        headers={"Stripe-Signature": signature})
    assert forged.status_code == 400
    with db.read() as session:
        paid = session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "statement.paid", AuditEntry.subject == f"statement:{number}"))
        request_row = session.scalar(select(PaymentRequest))
        assert request_row is not None
        assert (request_row.status, request_row.amount) == ("paid", Decimal("60.00"))
    assert paid == 1
    with db.write() as session:  # paid: no reminder is recorded any more
        assert send_reminders(session, ISSUED + timedelta(days=30), [7, 14]) == 0


def test_reminders_go_once_on_their_days_and_stop_when_cancelled(
        db: Database, mailbox: Mailbox) -> None:
    number = issued_statement(db, language="en")
    gateway = DemoGateway(b"k" * 32, "http://127.0.0.1:9")
    with db.write() as session:
        send_request(session, find_statement(session, number), gateway,
                     base_url="http://127.0.0.1:9", actor="admin", now=ISSUED)
    with db.write() as session, pytest.raises(StatementError, match="already has an open"):
        send_request(session, find_statement(session, number), gateway,
                     base_url="http://127.0.0.1:9", actor="admin", now=ISSUED)
    for days_later, expected in ((6, 0), (7, 1), (8, 0), (13, 0), (14, 1), (40, 0)):
        with db.write() as session:
            got = send_reminders(session, ISSUED + timedelta(days=days_later), [7, 14])
        assert got == expected, days_later
    config = mailbox.config(db)
    assert deliver_all(db, config) == 3
    subjects = [m["Subject"] for m in mailbox.to("accounts@acme.test")]
    assert subjects == [f"Statement {number}: €60.00 to pay",
                        f"Reminder: statement {number}, €60.00 still to pay",
                        f"Reminder: statement {number}, €60.00 still to pay"]
    reminder = mailbox.to("accounts@acme.test")[2].get_body(("plain",))
    assert reminder is not None and "sent 14 days ago" in reminder.get_content()
    with db.write() as session:
        cancel_request(session, find_statement(session, number), actor="admin",
                       now=ISSUED + timedelta(days=15))
    with db.write() as session:
        request = send_request(session, find_statement(session, number), gateway,
                               base_url="http://127.0.0.1:9", actor="admin",
                               now=ISSUED + timedelta(days=16))
        second = request.reference
    with db.write() as session:  # only the new request's first reminder, once
        assert send_reminders(session, ISSUED + timedelta(days=23), [7, 14]) == 1
    with db.write() as session:
        change(session, find_statement(session, number), "cancelled", actor="admin",
               now=ISSUED + timedelta(days=24))
    with db.write() as session:
        assert send_reminders(session, ISSUED + timedelta(days=31), [7, 14]) == 0
        assert session.scalar(select(PaymentRequest.status).where(
            PaymentRequest.reference == second)) == "cancelled"
    with db.write() as session, pytest.raises(StatementError, match="is cancelled: only"):
        send_request(session, find_statement(session, number), gateway,
                     base_url="http://127.0.0.1:9", actor="admin", now=ISSUED)


def test_a_payment_of_another_amount_changes_nothing_and_is_audited(db: Database) -> None:
    number = issued_statement(db, language="en")
    reference = new_reference()
    with db.write() as session:
        record_request(session, find_statement(session, number), "stripe",
                       CreatedPayment("https://pay.example/x", "pi_statement_1"),
                       reference=reference, actor="test", now=ISSUED)
    short = PaymentEvent("evt_1", "succeeded", "pi_statement_1", Decimal("6.00"), "EUR",
                         reference)
    other = PaymentEvent("evt_2", "succeeded", "pi_topup_9", Decimal("5.00"), "EUR",
                         "T-3F9A0C1B2D")
    with db.write() as session:
        assert apply_payment_event(session, "stripe", short, ISSUED) == "mismatch"
        assert apply_payment_event(session, "stripe", other, ISSUED) is None  # a top-up's
        assert apply_payment_event(session, "demo", short, ISSUED) == "unknown_payment"
    with db.read() as session:
        assert find_statement(session, number).status == "issued"
        assert session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "statement.payment_mismatch")) == 1
    right = PaymentEvent("evt_3", "succeeded", "pi_statement_1", Decimal("60.00"), "EUR")
    with db.write() as session:
        assert apply_payment_event(session, "stripe", right, ISSUED) == "paid"
    with db.write() as session:
        assert apply_payment_event(session, "stripe", right, ISSUED) == "duplicate"
    assert status_of(db, number) == "paid"
