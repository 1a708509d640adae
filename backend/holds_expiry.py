"""Stale holds expire on their own: a kiosk that died mid-release must not block the
user's credit for ever.

The server runs :func:`expire_stale_holds` on its schedule (``[holds]`` in backend.toml)
and ``printkiosk backend expire-holds`` runs the very same function. Exactly once, even
with two backend processes on one database: each hold is voided under its user's lock
(the row lock on PostgreSQL, the write lock on SQLite) and only if it is still open after
the lock is taken, so a second process that selected the same hold finds it voided and
leaves it; only the process that voided a hold audits it. A late capture of an expired
hold is refused with ``hold_settled``: the user is not charged, the safe side.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from backend.audit import record
from backend.db import Database
from backend.ledger import ZERO, lock_user
from backend.models import Hold, Print3DJob, utcnow
from backend.money import fmt

# The hold of a 3D job printing (claimed) expires only after this: the longest print a
# site runs, with a kiosk that then died and never settled it.
PRINTING_MAX_AGE = timedelta(days=7)
# Holds voided per transaction: a backlog (a site back from a long outage) must not keep
# the database write lock (SQLite) or many users' row locks for long while kiosks charge.
BATCH = 200


def void_open_holds(session: Session, hold_ids: Sequence[str], actor: str,
                    action: str, origin: str | None = None) -> list[Hold]:
    """Void those of ``hold_ids`` still open, each under its user's lock and audited as
    ``action``; return the ones voided. The ids must come ordered by user (users locked in
    one order: no deadlock). Shared by hold expiry and terminal revocation."""
    voided: list[Hold] = []
    for hold_id in hold_ids:
        hold = session.get(Hold, hold_id)
        assert hold is not None
        lock_user(session, hold.user_id)
        session.refresh(hold)
        if hold.status != "open":
            continue  # settled meanwhile: captured by its kiosk, or voided by another process
        hold.status = "voided"
        hold.captured_amount = ZERO
        hold.settled_at = utcnow()
        record(session, actor, action, hold.id, {
            "amount": fmt(hold.amount), "user_id": hold.user_id,
            "terminal_id": hold.terminal_id, "created_at": hold.created_at.isoformat(),
            "payer": hold.payer}, origin=origin)
        voided.append(hold)
    return voided


def expire_holds(session: Session, older_than: datetime, actor: str,
                 limit: int | None = None, origin: str | None = None) -> list[str]:
    """Void the open holds created before ``older_than`` (at most ``limit`` of them);
    return those this call voided. A hold behind a 3D print in progress is left for
    :data:`PRINTING_MAX_AGE`: a print may run for days, and its settlement needs it."""
    printing = exists(select(Print3DJob.id).where(Print3DJob.hold_id == Hold.id,
                                                  Print3DJob.status == "printing"))
    stale = session.scalars(
        select(Hold.id).where(Hold.status == "open", Hold.created_at < older_than,
                              or_(~printing, Hold.created_at < utcnow() - PRINTING_MAX_AGE))
        .order_by(Hold.user_id, Hold.id)
        .limit(limit)
    ).all()
    voided = [hold.id for hold in void_open_holds(session, stale, actor, "hold.expire",
                                                  origin)]
    session.flush()
    return voided


def expire_stale_holds(db: Database, max_age: timedelta, actor: str) -> list[str]:
    """One run, the scheduler's job and the CLI's: batches of ``BATCH`` holds, each in its
    own transaction, while batches come back full. (A batch partly settled by another
    process meanwhile ends this run early; that process, or the next tick, goes on.)"""
    older_than = utcnow() - max_age
    voided: list[str] = []
    while True:
        with db.write() as session:
            batch = expire_holds(session, older_than, actor, BATCH)
        voided.extend(batch)
        if len(batch) < BATCH:
            return voided
