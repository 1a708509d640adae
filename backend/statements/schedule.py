"""The statements' scheduled work: issued statements past their due date become
overdue, and the payment reminders due are recorded in the outbox. Safe with several
backend processes: overdue rows are locked before they change, and each reminder has a
dedupe key, so a second process finds nothing left to do."""

from __future__ import annotations

from backend.config import StatementSettings
from backend.db import Database
from backend.models import utcnow
from backend.statements.requests import send_reminders
from backend.statements.status import mark_overdue


def statement_schedule(db: Database, settings: StatementSettings) -> int:
    now = utcnow()
    with db.write() as session:
        done = len(mark_overdue(session, now))
    with db.write() as session:
        done += send_reminders(session, now, list(settings.reminder_days))
    return done
