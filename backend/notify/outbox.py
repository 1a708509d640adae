"""Recording a notification: one outbox row, in the caller's transaction.

Why in the caller's transaction: the mail exists if and only if the event committed. A
charge rolled back leaves no alert behind; a committed one cannot lose its alert to a
crash between the two. Why a savepoint around the insert: the same event can be recorded
twice at the same moment (two backend processes, a retried request); the unique
``dedupe_key`` turns the second into a no-op without aborting the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import Notification, User, utcnow


def recipient(user: User) -> tuple[str, str] | None:
    """(address, language) of a user, or None for a user with no e-mail address."""
    if not user.email:
        return None
    return user.email, user.language or "en"


def record(session: Session, *, kind: str, to_address: str, language: str,
           context: dict[str, Any], user_id: int | None = None,
           dedupe_key: str | None = None,
           send_after: datetime | None = None) -> Notification | None:
    """Add a mail to the outbox; None when ``dedupe_key`` was recorded before.

    ``context`` must be JSON: amounts as decimal strings, instants as ISO 8601 UTC.
    ``send_after``: not sent before then (a grouping window); default now.
    """
    if dedupe_key is not None and session.scalar(
            select(Notification.id).where(Notification.dedupe_key == dedupe_key)) is not None:
        return None
    row = Notification(kind=kind, user_id=user_id, to_address=to_address,
                       language=language, context=context, dedupe_key=dedupe_key,
                       status="pending", attempts=0,
                       next_attempt_at=send_after or utcnow())
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        if dedupe_key is None:
            raise
        return None
    return row
