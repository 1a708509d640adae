"""The audit log: who changed what, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.models import AuditEntry


def record(session: Session, actor: str, action: str, subject: str,
           details: dict[str, Any] | None = None) -> None:
    session.add(AuditEntry(actor=actor, action=action, subject=subject, details=details))
