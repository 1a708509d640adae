"""What the administration console shows of quota refills: each rule, whether its current
period is refilled, when the next one is due, and the last runs.

The refill itself is :func:`backend.refill.refill_due` (the server's schedule, the CLI and
the console's "run now" all call it), idempotent per period by its ``RefillRun`` row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Group, QuotaRule, RefillRun, utcnow
from backend.refill import period_key


@dataclass(frozen=True)
class RuleStatus:
    group: str
    period: str  # monthly | weekly
    amount: Decimal
    carry_over_cap: Decimal
    current_key: str
    refilled_at: datetime | None  # the current period's run, None: due now
    next_due: datetime  # the start of the next period (UTC)


def next_period_start(period: str, now: datetime) -> datetime:
    """Midnight UTC of the next Monday (weekly) or of the 1st of next month (monthly),
    the moments :func:`backend.refill.period_key` changes."""
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if period == "weekly":
        return midnight + timedelta(days=7 - now.weekday())
    year, month = (now.year, now.month + 1) if now.month < 12 else (now.year + 1, 1)
    return datetime(year, month, 1, tzinfo=UTC)


def rule_status(session: Session, now: datetime | None = None) -> list[RuleStatus]:
    now = now or utcnow()
    found = []
    rows = session.execute(select(QuotaRule, Group).join(Group, Group.id == QuotaRule.group_id)
                           .order_by(Group.name)).tuples()
    for rule, group in rows:
        key = f"{period_key(rule.period, now)}:group{rule.group_id}"
        run = session.scalar(select(RefillRun).where(RefillRun.period == key))
        found.append(RuleStatus(group.name, rule.period, rule.amount, rule.carry_over_cap,
                                key, run.started_at if run else None,
                                next_period_start(rule.period, now)))
    return found


def due_now(statuses: list[RuleStatus]) -> int:
    """Rules whose current period is not refilled yet."""
    return sum(1 for status in statuses if status.refilled_at is None)


def last_runs(session: Session, limit: int = 20) -> list[RefillRun]:
    return list(session.scalars(select(RefillRun).order_by(RefillRun.started_at.desc(),
                                                           RefillRun.id.desc()).limit(limit)))
