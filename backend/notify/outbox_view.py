"""The outbox as the administrator sees it (``/admin/notifications``, ``printkiosk
backend notify outbox``): counts by status, the failed mails, the pending ones, the last
sent (to answer "did Bob get the mail?"); and the one change allowed on it, retrying a
failed mail (audited)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import audit
from backend.models import Notification, utcnow

STATUSES = ("pending", "sent", "failed")
# The page and the command list at most this many rows of each kind, newest first.
LIMIT = 200


class RetryRefused(Exception):
    """A retry that cannot be done; ``code`` is a stable key, ``detail`` one line."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def counts(session: Session) -> dict[str, int]:
    """How many mails have each status (every status present, zero or not)."""
    found = dict(session.execute(select(Notification.status, func.count())
                                 .group_by(Notification.status)).tuples().all())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def failed(session: Session, limit: int = LIMIT) -> list[Notification]:
    return list(session.scalars(
        select(Notification).where(Notification.status == "failed")
        .order_by(Notification.failed_at.desc(), Notification.id.desc()).limit(limit)))


def pending(session: Session, limit: int = LIMIT) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.status == "pending")
                                .order_by(Notification.next_attempt_at).limit(limit)))


def sent(session: Session, to_address: str = "", limit: int = 50) -> list[Notification]:
    """The last mails sent, newest first; ``to_address``: only those to that address
    (any case)."""
    query = select(Notification).where(Notification.status == "sent")
    if to_address:
        query = query.where(func.lower(Notification.to_address) == to_address.lower())
    return list(session.scalars(query.order_by(Notification.sent_at.desc(),
                                               Notification.id.desc()).limit(limit)))


def retry(session: Session, notification_id: int, actor: str,
          origin: str | None = None) -> Notification:
    """Put a failed mail back in the queue, due now, with its attempts counted afresh
    (its Message-ID is kept); refused for a mail that is not failed."""
    row = session.get(Notification, notification_id, with_for_update=True)
    if row is None:
        raise RetryRefused("notification_unknown", f"no mail number {notification_id}")
    if row.status != "failed":
        raise RetryRefused("notification_not_failed",
                          f"mail number {notification_id} is {row.status}, not failed")
    previous_error = row.last_error
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = utcnow()
    row.created_at = utcnow()  # the age limit counts from the retry
    row.claim_token = None
    row.claimed_until = None
    row.failed_at = None
    audit.record(session, actor, "notification.retry", str(row.id),
                 {"kind": row.kind, "to_address": row.to_address,
                  "last_error": previous_error}, origin=origin)
    return row
