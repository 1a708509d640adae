"""Quota refills: each period, top up virtual credit per the group's quota rule.

Exactly once per period, even with two backend processes (or the CLI and a server):
the first to insert the period's ``RefillRun`` row wins; the unique constraint makes
the loser's insert fail and its whole transaction (including any credit it posted)
roll back. On SQLite the write lock serialises them and the loser sees the row.

Carry-over: the new virtual balance is min(current + amount, carry_over_cap) and never
lower than the current balance (a refill never removes credit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import ledger
from backend.models import AccountKind, Group, QuotaRule, RefillRun, User, UserGroup, utcnow


@dataclass(frozen=True)
class Refilled:
    """One user's top-up, for the operator's report."""

    username: str
    group: str
    period: str
    amount: Decimal
    virtual_credit: Decimal  # after the top-up


def period_key(period: str, now: datetime) -> str:
    if period == "weekly":
        year, week, _day = now.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    return f"monthly:{now:%Y-%m}"


def refill_due(session: Session, currency: str, now: datetime | None = None) -> list[Refilled]:
    """Run every rule whose period has not been refilled yet; return the top-ups made."""
    now = now or utcnow()
    refilled: list[Refilled] = []
    for rule in session.scalars(select(QuotaRule).order_by(QuotaRule.id)):
        period = period_key(rule.period, now)
        key = f"{period}:group{rule.group_id}"
        if session.scalar(select(RefillRun).where(RefillRun.period == key)) is not None:
            continue
        run = RefillRun(period=key)
        try:
            with session.begin_nested():
                session.add(run)
                session.flush()
        except IntegrityError:
            continue  # another process refilled this period first
        user_ids = session.scalars(
            select(User.id).join(UserGroup, UserGroup.user_id == User.id)
            .where(UserGroup.group_id == rule.group_id, User.status == "active")
            .order_by(User.id)
        ).all()
        group = session.get(Group, rule.group_id)
        assert group is not None  # a foreign key
        for user_id in user_ids:
            done = _refill_user(session, user_id, rule, currency)
            if done is not None:
                refilled.append(Refilled(done[0], group.name, period, done[1], done[2]))
        run.users_refilled = len(user_ids)
    return refilled


def _refill_user(session: Session, user_id: int, rule: QuotaRule,
                 currency: str) -> tuple[str, Decimal, Decimal] | None:
    """(username, amount added, virtual credit after), or None when already at the cap."""
    user = ledger.lock_user(session, user_id)
    current = ledger.balance(session, user, currency).virtual_credit
    target = max(current, min(current + rule.amount, rule.carry_over_cap))
    top_up: Decimal = target - current
    if top_up <= 0:
        return None
    ledger.credit(session, user, currency, kind="refill", amount=top_up,
                  source_kind=AccountKind.QUOTA_FUNDING,
                  description=f"quota refill ({rule.period})",
                  actor="refill", to_virtual=True)
    return user.username, top_up, target
