"""The audit log: who changed what, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.models import AuditEntry, utcnow


def record(session: Session, actor: str, action: str, subject: str,
           details: dict[str, Any] | None = None, at: datetime | None = None,
           origin: str | None = None) -> None:
    """``at``: when it happened, if not now (a kiosk reporting an action made offline).
    ``origin``: where the change came from, e.g. ``web:203.0.113.5`` for a page."""
    session.add(AuditEntry(actor=actor, action=action, subject=subject, details=details,
                           at=at or utcnow(), origin=origin))
