"""Shared by the top-up tests: a top-up made through the service, and balances."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from backend_fixtures import SECRET
from sqlalchemy import select

from backend import ledger, topups
from backend.db import Database
from backend.models import Account, AccountKind, TopUp, User
from backend.payments.gateway import CreatedPayment


def user_id(db: Database, username: str) -> int:
    with db.read() as session:
        found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


def personal(db: Database, username: str) -> Decimal:
    with db.read() as session:
        return ledger.user_accounts(session, user_id(db, username), "EUR")[1].balance


def system(db: Database, kind: str) -> Decimal:
    with db.read() as session:
        return session.scalar(select(Account.balance).where(
            Account.key == ledger.account_key(kind, "EUR"))) or Decimal("0.00")


def clearing(db: Database) -> Decimal:
    return system(db, AccountKind.PAYMENT_CLEARING)


def make_top_up(db: Database, username: str = "bob", amount: str = "5.00",
                minutes: int = 10, gateway: str = "test",
                payment_id: str | None = None) -> TopUp:
    """A pending top-up of ``username`` with the gateway payment ``payment_id``."""
    with db.write() as session:
        user = ledger.lock_user(session, user_id(db, username))
        top_up = topups.create_top_up(session, SECRET, user=user, terminal_id=None,
                                      amount=Decimal(amount), currency="EUR",
                                      gateway_name=gateway,
                                      expire_after=timedelta(minutes=minutes))
        topups.attach_payment(session, top_up, CreatedPayment(
            "https://pay.example/x", payment_id or f"pay_{top_up.public_id}"),
            topups.url_token(SECRET, top_up.public_id))
        session.expunge(top_up)
    return top_up


def settle(db: Database, top_up: TopUp, amount: str | None = None, event_id: str = "ev_1",
           fee: str | None = None) -> topups.SettleOutcome:
    with db.write() as session:
        assert top_up.gateway_payment_id is not None
        outcome = topups.settle_top_up(
            session, top_up, amount=Decimal(amount or top_up.amount), currency="EUR",
            gateway_payment_id=top_up.gateway_payment_id, event_id=event_id,
            fee=Decimal(fee) if fee else None, source="webhook")
        session.expunge_all()
    return outcome


def status(db: Database, top_up: TopUp) -> TopUp:
    with db.read() as session:
        found = topups.find(session, top_up.public_id)
        session.expunge(found)
    return found
