"""What the cash desk shows of a user: balance, last transactions, last charged jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import ledger
from backend.cash_desk import refundable_credit, refunded_of
from backend.models import Account, AccountKind, LedgerEntry, LedgerTransaction, User

RECENT = 20


@dataclass(frozen=True)
class Line:
    id: int
    kind: str
    description: str
    amount: Decimal  # for the user: + credit, - debit
    actor: str | None
    at: datetime


@dataclass(frozen=True)
class Job:
    charge_id: int
    description: str
    charged: Decimal
    refunded: Decimal
    at: datetime

    @property
    def remaining(self) -> Decimal:
        return self.charged - self.refunded


@dataclass(frozen=True)
class UserView:
    user: User
    balance: ledger.Balance
    payable: Decimal  # what a cash out may pay
    lines: list[Line]
    jobs: list[Job]


def user_view(session: Session, username: str, currency: str) -> UserView | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return None
    balance = ledger.balance(session, user, currency)
    user_kinds = (AccountKind.USER_VIRTUAL, AccountKind.USER_PERSONAL)
    rows = session.execute(
        select(LedgerTransaction, LedgerEntry.amount)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(Account.user_id == user.id, Account.kind.in_(user_kinds))
        .order_by(LedgerTransaction.id.desc()).limit(RECENT * 2)).tuples().all()
    merged: dict[int, tuple[LedgerTransaction, Decimal]] = {}
    for transaction, amount in rows:
        previous = merged.get(transaction.id, (transaction, ledger.ZERO))[1]
        merged[transaction.id] = (transaction, previous + amount)
    lines = [Line(t.id, t.kind, t.description, amount, t.actor, t.created_at)
             for t, amount in list(merged.values())[:RECENT]]
    charges = list(session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.user_id == user.id,
                                        LedgerTransaction.kind == "charge")
        .order_by(LedgerTransaction.id.desc()).limit(RECENT)))
    refunded = refunded_of(session, [charge.id for charge in charges])
    jobs = [Job(charge.id, charge.description,
                -sum((e.amount for e in charge.entries if e.amount < 0), ledger.ZERO),
                refunded.get(charge.id, ledger.ZERO), charge.created_at)
            for charge in charges]
    return UserView(user, balance, refundable_credit(balance), lines, jobs)
