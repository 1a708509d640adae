"""Open holds for the administration console: the list, oldest first, and expiring
chosen holds or every one older than some hours.

The voiding is :func:`backend.holds_expiry.void_open_holds` (under each user's lock, only
if still open, audited ``hold.expire`` with who and from where), as the schedule does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.holds_expiry import expire_holds, void_open_holds
from backend.ledger import LedgerError
from backend.models import Hold, Terminal, User, utcnow

MAX_AGE_H = 24 * 365


@dataclass(frozen=True)
class OpenHold:
    id: str
    username: str
    terminal: str
    amount: Decimal
    created_at: datetime
    description: str

    def age(self, now: datetime) -> timedelta:
        return now - self.created_at


def open_holds(session: Session, limit: int = 500) -> list[OpenHold]:
    rows = session.execute(
        select(Hold, User.username, Terminal.name)
        .join(User, User.id == Hold.user_id).join(Terminal, Terminal.id == Hold.terminal_id)
        .where(Hold.status == "open").order_by(Hold.created_at, Hold.id).limit(limit)).tuples()
    return [OpenHold(hold.id, username, terminal, hold.amount, hold.created_at,
                     hold.description) for hold, username, terminal in rows]


def expire_chosen(session: Session, hold_ids: Sequence[str], actor: str,
                  origin: str | None) -> list[str]:
    """Void those of ``hold_ids`` still open; return the ids voided."""
    ordered = session.scalars(select(Hold.id).where(Hold.id.in_(list(hold_ids)),
                                                    Hold.status == "open")
                              .order_by(Hold.user_id, Hold.id)).all()
    voided = void_open_holds(session, ordered, actor, "hold.expire", origin=origin)
    session.flush()
    return [hold.id for hold in voided]


def expire_older_than(session: Session, hours: int, actor: str,
                      origin: str | None) -> list[str]:
    """Void every open hold older than ``hours`` (1 to a year), as the schedule does."""
    if not 1 <= hours <= MAX_AGE_H:
        raise LedgerError("hours_invalid", f"{hours} hours: give 1 to {MAX_AGE_H}")
    return expire_holds(session, utcnow() - timedelta(hours=hours), actor, origin=origin)
