"""Top-ups in the backend (issue 14): settlement exactly once by event id and by status,
late payments credited and flagged, wrong amounts flagged and not credited, fees, expiry
exactly once, cancellation and refunds; on SQLite and PostgreSQL, with the ledger
invariants (payment clearing = credited top-ups) checked after every test."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from topup_helpers import clearing, make_top_up, personal, settle, status, system

from backend import topups
from backend.db import Database
from backend.ledger import LedgerError, check_invariants
from backend.models import AccountKind, AuditEntry, TopUp, TopUpEvent, utcnow
from backend.payments.fakes import FakeGateway
from backend.payments.gateway import PaymentStatus


def test_a_payment_credits_the_user_once_and_a_replayed_event_changes_nothing(
        backend: object, db: Database) -> None:
    before, clearing_before = personal(db, "bob"), clearing(db)
    top_up = make_top_up(db, amount="5.00")
    first = settle(db, top_up, event_id="ev_a")
    assert first.result == "credited" and not first.late
    assert personal(db, "bob") == before + Decimal("5.00")
    assert clearing(db) == clearing_before - Decimal("5.00")
    assert settle(db, top_up, event_id="ev_a").result == "duplicate"
    # Another event about the same payment (the reconciliation's, a second webhook type)
    assert settle(db, top_up, event_id="ev_b").result == "already_settled"
    assert personal(db, "bob") == before + Decimal("5.00")
    assert status(db, top_up).status == "paid"
    with db.read() as session:
        events = session.scalars(select(TopUpEvent.outcome).order_by(TopUpEvent.id)).all()
    assert events == ["credited", "already_settled"]


def test_a_reported_fee_goes_to_payment_fees(backend: object, db: Database) -> None:
    before = personal(db, "bob")
    fees_before = system(db, AccountKind.PAYMENT_FEES)
    top_up = make_top_up(db, amount="10.00")
    assert settle(db, top_up, fee="0.40").result == "credited"
    assert personal(db, "bob") == before + Decimal("10.00")  # the user gets what they paid
    assert system(db, AccountKind.PAYMENT_FEES) == fees_before - Decimal("0.40")
    assert status(db, top_up).fee == Decimal("0.40")


def test_a_payment_after_expiry_is_credited_and_flagged_late(backend: object,
                                                             db: Database) -> None:
    before = personal(db, "bob")
    top_up = make_top_up(db, amount="5.00", minutes=10)
    expired = topups.expire_top_ups(db, now=utcnow() + timedelta(minutes=11))
    assert expired == [top_up.public_id]
    assert status(db, top_up).status == "expired"
    outcome = settle(db, top_up)
    assert outcome.result == "credited" and outcome.late
    found = status(db, top_up)
    assert (found.status, found.late, found.flag) == ("paid", True, "late")
    assert personal(db, "bob") == before + Decimal("5.00")
    with db.read() as session:
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.subject == top_up.public_id)).all()
    assert "topup.late" in actions and "topup.expire" in actions


def test_a_payment_after_the_user_cancelled_still_credits(backend: object,
                                                          db: Database) -> None:
    before = personal(db, "bob")
    top_up = make_top_up(db)
    with db.write() as session:
        topups.cancel_top_up(session, top_up, "terminal")
    assert status(db, top_up).status == "cancelled"
    assert settle(db, top_up).late
    assert personal(db, "bob") == before + Decimal("5.00")
    with db.write() as session, pytest.raises(LedgerError, match="topup_settled"):
        topups.cancel_top_up(session, top_up, "terminal")


def test_a_wrong_amount_is_not_credited_but_flagged_mismatch(backend: object,
                                                             db: Database) -> None:
    before, clearing_before = personal(db, "bob"), clearing(db)
    top_up = make_top_up(db, amount="5.00")
    assert settle(db, top_up, amount="0.50").result == "mismatch"
    found = status(db, top_up)
    assert (found.status, found.flag, found.paid_amount) == ("mismatch", "amount_mismatch",
                                                            Decimal("0.50"))
    assert personal(db, "bob") == before and clearing(db) == clearing_before
    # refunded at the gateway in full; nothing to reverse in the ledger
    gateway = FakeGateway()
    with db.write() as session:
        assert topups.refund_top_up(session, top_up, gateway, None, "wrong amount",
                                    "admin") is None
    assert gateway.refunds == [(top_up.gateway_payment_id, Decimal("0.50"))]
    assert status(db, top_up).status == "refunded"


def test_expiry_changes_each_top_up_once(backend: object, db: Database) -> None:
    old = make_top_up(db, minutes=1)
    fresh = make_top_up(db, minutes=30)
    later = utcnow() + timedelta(minutes=2)
    assert topups.expire_top_ups(db, now=later) == [old.public_id]
    assert topups.expire_top_ups(db, now=later) == []  # a second process finds nothing
    assert status(db, fresh).status == "pending"


def test_a_refund_reverses_the_credit_partly_then_fully(backend: object,
                                                        db: Database) -> None:
    before, clearing_before = personal(db, "bob"), clearing(db)
    top_up = make_top_up(db, amount="10.00")
    settle(db, top_up)
    gateway = FakeGateway()
    with db.write() as session:
        topups.refund_top_up(session, top_up, gateway, Decimal("4.00"), "asked", "admin")
    assert personal(db, "bob") == before + Decimal("6.00")
    assert status(db, top_up).status == "paid"
    with db.write() as session, pytest.raises(LedgerError, match="refund_exceeds_charge"):
        topups.refund_top_up(session, top_up, gateway, Decimal("6.01"), "asked", "admin")
    with db.write() as session:
        topups.refund_top_up(session, top_up, gateway, None, "asked", "admin")
    assert personal(db, "bob") == before and clearing(db) == clearing_before
    found = status(db, top_up)
    assert (found.status, found.refunded_amount) == ("refunded", Decimal("10.00"))
    assert [amount for _pid, amount in gateway.refunds] == [Decimal("4.00"),
                                                            Decimal("6.00")]


def test_a_refund_of_spent_credit_is_refused_and_the_gateway_not_asked(
        backend: object, db: Database) -> None:
    top_up = make_top_up(db, username="bob", amount="5.00")
    settle(db, top_up)
    with db.write() as session:  # bob spends everything
        from backend import ledger
        user = ledger.lock_user(session, top_up.user_id)
        spend = ledger.user_accounts(session, user.id, "EUR")[1].balance
        ledger.adjust(session, user, "EUR", account_kind=AccountKind.USER_PERSONAL,
                      amount=-spend, reason="spent", actor="test")
    gateway = FakeGateway()
    with db.write() as session, pytest.raises(LedgerError, match="refund_exceeds_credit"):
        topups.refund_top_up(session, top_up, gateway, None, "asked", "admin")
    assert gateway.refunds == []


def test_the_invariant_catches_a_credit_that_no_top_up_explains(backend: object,
                                                                db: Database) -> None:
    top_up = make_top_up(db)
    settle(db, top_up)
    with db.write() as session:
        session.execute(update(TopUp).values(paid_amount=Decimal("4.00")))
        assert check_invariants(session).top_up_mismatches
        session.execute(update(TopUp).values(paid_amount=Decimal("5.00")))
    with db.read() as session:
        assert check_invariants(session).ok


def test_reconciliation_credits_a_missed_payment_once_across_racing_processes(
        backend: object, db: Database) -> None:
    """Four reconcilers at once (as four backend processes' schedules): the gateway is
    asked once about each due top-up, and the missed payment is credited once."""
    import threading

    from backend.topup_reconcile import reconcile

    before = personal(db, "bob")
    paid = make_top_up(db, amount="5.00")
    waiting = make_top_up(db, amount="2.00")
    gateway = FakeGateway()
    assert paid.gateway_payment_id is not None
    gateway.statuses[paid.gateway_payment_id] = PaymentStatus("succeeded", Decimal("5.00"),
                                                              "EUR")
    later = utcnow() + timedelta(minutes=6)
    results: list[list[object]] = []
    start = threading.Barrier(4)

    def run() -> None:
        start.wait()
        results.append(list(reconcile(db, gateway, timedelta(minutes=5), now=later)))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(gateway.asked) == sorted([paid.gateway_payment_id,
                                            waiting.gateway_payment_id])
    assert sum(len(result) for result in results) == 2
    assert personal(db, "bob") == before + Decimal("5.00")
    assert status(db, paid).status == "paid" and status(db, waiting).status == "pending"
