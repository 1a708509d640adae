"""Reading the audit log: newest first, one page, filtered by actor, action, subject and
a date range (``ix_audit_log_*`` of migration 0015 serve the filters and the order)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import AuditEntry


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""  # exact, e.g. staff:admin
    action: str = ""  # exact, one of :func:`actions`
    subject: str = ""  # contains
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def _where(chosen: AuditFilter) -> list[Any]:
    where: list[Any] = []
    if chosen.actor:
        where.append(AuditEntry.actor == chosen.actor)
    if chosen.action:
        where.append(AuditEntry.action == chosen.action)
    if chosen.subject:
        escaped = (chosen.subject.replace("\\", "\\\\").replace("%", "\\%")
                   .replace("_", "\\_"))
        where.append(AuditEntry.subject.like(f"%{escaped}%", escape="\\"))
    if chosen.since is not None:
        where.append(AuditEntry.at >= chosen.since)
    if chosen.until is not None:
        where.append(AuditEntry.at < chosen.until)
    return where


def read_page(session: Session, chosen: AuditFilter, page: int = 1,
              per_page: int = 50) -> AuditPage:
    where = _where(chosen)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    entries = list(session.scalars(
        select(AuditEntry).where(*where).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * per_page).limit(per_page)))
    return AuditPage(entries, int(total), page, pages)


def actions(session: Session) -> list[str]:
    """The actions present in the log, for the filter's select."""
    return [str(name) for name in session.scalars(
        select(AuditEntry.action).distinct().order_by(AuditEntry.action))]
