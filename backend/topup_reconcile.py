"""Reconciliation: ask the gateway about top-ups still unpaid after N minutes, so that a
missed webhook (the backend was down, the network lost it) is recovered.

Run on the backend's schedule (``[payments] check_interval_s``) and by ``printkiosk
payments reconcile``. Exactly once across processes: a top-up is asked about only by
the process whose conditional UPDATE of ``checked_at`` claimed it for this round (one
row or none), and what the gateway answers goes through the same idempotent
``settle_top_up`` as a webhook, under the event id ``reconcile:<payment id>``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from backend import topups
from backend.db import Database
from backend.models import TopUp, utcnow
from backend.payments.gateway import GatewayError, PaymentGateway

log = logging.getLogger(__name__)
# Top-ups older than this are not asked about any more (the cash desk has the CLI).
GIVE_UP_AFTER = timedelta(days=3)
BATCH = 100


@dataclass(frozen=True)
class Reconciled:
    public_id: str
    state: str  # what the gateway said: pending | succeeded | failed | error
    result: str  # credited | mismatch | failed | unchanged | ...


def claim(db: Database, gateway: str, older_than: timedelta, now: datetime) -> list[int]:
    """The top-ups this process asks about in this round (claimed by ``checked_at``)."""
    due_before = now - older_than
    with db.read() as session:
        candidates = session.scalars(
            select(TopUp.id).where(TopUp.gateway == gateway,
                                   TopUp.status.in_(("pending", "expired")),
                                   TopUp.gateway_payment_id.is_not(None),
                                   TopUp.created_at < due_before,
                                   TopUp.created_at > now - GIVE_UP_AFTER,
                                   or_(TopUp.checked_at.is_(None),
                                       TopUp.checked_at < due_before))
            .order_by(TopUp.id).limit(BATCH)).all()
    claimed: list[int] = []
    for top_up_id in candidates:
        with db.write() as session:
            changed = session.execute(
                update(TopUp).where(TopUp.id == top_up_id,
                                    or_(TopUp.checked_at.is_(None),
                                        TopUp.checked_at < due_before))
                .values(checked_at=now).execution_options(synchronize_session=False))
            if changed.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(top_up_id)
    return claimed


def reconcile(db: Database, gateway: PaymentGateway, older_than: timedelta,
              now: datetime | None = None) -> list[Reconciled]:
    """One round: each claimed top-up asked of the gateway, its answer applied."""
    now = now or utcnow()
    done: list[Reconciled] = []
    for top_up_id in claim(db, gateway.name, older_than, now):
        with db.read() as session:
            top_up = session.get(TopUp, top_up_id)
            assert top_up is not None and top_up.gateway_payment_id is not None
            session.expunge(top_up)
        payment_id = top_up.gateway_payment_id
        assert payment_id is not None
        try:  # outside any transaction: no lock held while the gateway answers
            status = gateway.fetch_status(payment_id)
        except GatewayError as exc:
            log.warning("reconciliation of %s: %s", top_up.public_id, exc)
            done.append(Reconciled(top_up.public_id, "error", str(exc)))
            continue
        result = "unchanged"
        with db.write() as session:
            if status.state == "succeeded":
                result = topups.settle_top_up(
                    session, top_up, amount=status.amount, currency=status.currency,
                    gateway_payment_id=payment_id, event_id=f"reconcile:{payment_id}",
                    fee=status.fee, source="reconcile").result
            elif status.state == "failed":
                changed = topups.fail_top_up(session, top_up,
                                             event_id=f"reconcile-failed:{payment_id}",
                                             source="reconcile")
                result = "failed" if changed else "unchanged"
        done.append(Reconciled(top_up.public_id, status.state, result))
    return done
