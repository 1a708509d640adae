"""User sessions at a terminal: the proof that a card or PIN was presented there.

A terminal token alone is not worth everyone's credit: every user-scoped call (balance,
holds, billing codes, prices for a user) must carry the session token that
``POST /sessions`` (or a card enrolment) returned. The token is random, shown once and
stored only as a keyed hash; it is bound to the terminal that opened it and to the user,
and expires ``sessions.idle_timeout_s`` after its last use. ``last_used_at`` is written
at most every ``TOUCH_RESOLUTION``, so that reads do not all become writes (the idle
timeout is that much coarser). Revoking the terminal ends its sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backend.ledger import LedgerError
from backend.models import TerminalSession, User, utcnow
from backend.security import keyed_hash, new_token

TOUCH_RESOLUTION = timedelta(seconds=30)
# Rows of sessions idle this long are deleted when the terminal opens a new one.
FORGET_AFTER = timedelta(days=1)

# Why a hold carried no usable session; None for a valid one.
OFFLINE_REASONS = ("no_session", "session_expired", "session_ended", "session_unknown")


def session_hash(secret: bytes, token: str) -> str:
    return keyed_hash(secret, token, "session")


@dataclass(frozen=True)
class Found:
    """A valid session: its row id, its user, and whether its last use should be written."""

    id: int
    user_id: int
    username: str
    needs_touch: bool


def start(session: Session, secret: bytes, terminal_id: str, user_id: int) -> str:
    """Open a session for ``user_id`` at this terminal; return its token (shown once)."""
    now = utcnow()
    session.execute(delete(TerminalSession).where(
        TerminalSession.terminal_id == terminal_id,
        TerminalSession.last_used_at < now - FORGET_AFTER))
    token = new_token()
    session.add(TerminalSession(token_hash=session_hash(secret, token), terminal_id=terminal_id,
                                user_id=user_id, created_at=now, last_used_at=now))
    session.flush()
    return token


def find(session: Session, secret: bytes, terminal_id: str, token: str,
         idle_timeout: timedelta) -> Found:
    """The valid session of this token at this terminal, or a LedgerError saying why not:
    ``session_unknown``, ``session_other_terminal``, ``session_ended``, ``session_expired``."""
    row = session.scalar(select(TerminalSession).where(
        TerminalSession.token_hash == session_hash(secret, token)))
    if row is None:
        raise LedgerError("session_unknown", "no such session")
    if row.terminal_id != terminal_id:
        raise LedgerError("session_other_terminal", "the session was opened at another terminal")
    if row.ended_at is not None:
        raise LedgerError("session_ended", "the session was ended")
    now = utcnow()
    if now - row.last_used_at > idle_timeout:
        raise LedgerError("session_expired", "the session expired; identify again")
    user = session.get(User, row.user_id)
    assert user is not None  # users are never deleted
    return Found(row.id, row.user_id, user.username,
                 now - row.last_used_at > TOUCH_RESOLUTION)


def require(session: Session, secret: bytes, terminal_id: str, token: str | None,
            username: str, idle_timeout: timedelta) -> Found:
    """The session must be valid and ``username``'s. A session of someone else is
    ``session_other_user`` whether or not ``username`` exists: nothing is learnt about
    other user names."""
    if token is None:
        raise LedgerError("session_required", "this call needs the user's session "
                          "(X-Printkiosk-Session from POST /sessions)")
    found = find(session, secret, terminal_id, token, idle_timeout)
    if found.username != username:
        raise LedgerError("session_other_user", "the session belongs to another user")
    return found


def touch(session: Session, session_id: int) -> None:
    session.execute(update(TerminalSession).where(TerminalSession.id == session_id)
                    .values(last_used_at=utcnow()))


def end_all(session: Session, terminal_id: str, at: datetime) -> int:
    """End every open session of the terminal (revocation); return how many."""
    result = session.execute(update(TerminalSession).where(
        TerminalSession.terminal_id == terminal_id, TerminalSession.ended_at.is_(None))
        .values(ended_at=at))
    return int(getattr(result, "rowcount", 0) or 0)
