"""How many wrong passwords a username may take before it is locked, in the database.

Keyed by the username as typed, known or not (an unknown name locks like a real one, so
the lockout tells nothing about which names exist). A per-address token bucket in front
(``backend.web.mount``) stops one client from trying many names.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from backend.db import Database
from backend.models import WebLoginFailure, utcnow


def locked_until(db: Database, username: str, now: datetime | None = None) -> datetime | None:
    """When the lock on ``username`` ends, or None if it may try now."""
    now = now or utcnow()
    with db.read() as session:
        found = session.get(WebLoginFailure, username.casefold())
        until = found.locked_until if found is not None else None
    return until if until is not None and until > now else None


def record_failure(db: Database, username: str, max_failures: int,
                   lockout: timedelta) -> datetime | None:
    """Count a wrong password; returns the end of the lock this failure started, if any."""
    key = username.casefold()
    now = utcnow()
    with db.write() as session:
        found = session.scalar(select(WebLoginFailure).where(
            WebLoginFailure.username == key).with_for_update())
        if found is None:
            found = WebLoginFailure(username=key, failures=0)
            session.add(found)
        if found.locked_until is not None and found.locked_until <= now:
            found.failures = 0  # the last lock is over: a new count starts
            found.locked_until = None
        found.failures += 1
        found.last_failure_at = now
        if found.failures >= max_failures:
            found.locked_until = now + lockout
            return found.locked_until
    return None


def clear_failures(db: Database, username: str) -> None:
    with db.write() as session:
        found = session.get(WebLoginFailure, username.casefold())
        if found is not None:
            session.delete(found)
