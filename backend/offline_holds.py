"""Holds taken without a live user session, and the terminal's offline limit.

The kiosk keeps serving remembered users when the backend is away and journals their
holds; when its outbox drains, those holds arrive with no session (none existed), or with
one that expired meanwhile (the backend went away mid-job). They are real charges the
kiosk already let the user print, so they are accepted — but only up to what a terminal
may decide on its own: the sum of one user's offline holds at this terminal over
``sessions.offline_window_h`` may not exceed the terminal's offline limit (the one it
reported at enrolment, never above the site's ``sessions.offline_limit``). Above it the
hold is refused for good (403 ``offline_limit_exceeded``), so a stolen terminal token is
worth at most that limit per user and window, not everyone's credit. Each offline hold
is marked (``holds.offline``) and audited (``hold.offline``, with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import terminal_sessions
from backend.audit import record
from backend.context import BackendContext
from backend.ledger import ZERO, LedgerError
from backend.models import Hold, Terminal, User, utcnow
from backend.money import fmt

# A presented token that no longer works makes the hold an offline one; these do not:
# they are another terminal's or another user's, never a late drain of this kiosk's own.
_REFUSED = ("session_other_terminal",)


@dataclass(frozen=True)
class Presented:
    """What the hold request showed: a live session (``session_id``), or why it is offline."""

    session_id: int | None
    offline_reason: str | None
    needs_touch: bool = False


def presented(session: Session, context: BackendContext, terminal: Terminal,
              token: str | None, username: str) -> Presented:
    """Classify the hold's session; raise LedgerError for one that is not this user's at
    this terminal (a session of someone else never turns into an offline hold)."""
    if token is None:
        return Presented(None, "no_session")
    idle = timedelta(seconds=context.config.sessions.idle_timeout_s)
    try:
        found = terminal_sessions.find(session, context.secret, terminal.id, token, idle)
    except LedgerError as exc:
        if exc.code in _REFUSED:
            raise
        return Presented(None, exc.code)
    if found.username != username:
        raise LedgerError("session_other_user", "the session belongs to another user")
    return Presented(found.id, None, found.needs_touch)


def terminal_limit(context: BackendContext, terminal: Terminal) -> Decimal:
    site = context.config.sessions.offline_limit_amount
    return site if terminal.offline_limit is None else min(site, terminal.offline_limit)


def spent_offline(session: Session, terminal_id: str, user_id: int,
                  window: timedelta) -> Decimal:
    """What this terminal's offline holds of the user in the window took or still hold."""
    holds = session.scalars(select(Hold).where(
        Hold.terminal_id == terminal_id, Hold.user_id == user_id, Hold.offline.is_(True),
        Hold.status != "voided", Hold.created_at >= utcnow() - window))
    return sum((hold.captured_amount if hold.status == "captured" and
                hold.captured_amount is not None else hold.amount for hold in holds), ZERO)


def check_limit(session: Session, context: BackendContext, terminal: Terminal, user: User,
                amount: Decimal) -> None:
    """Under the user's lock (the caller holds it): refuse what would pass the limit."""
    if amount == 0:
        return
    limit = terminal_limit(context, terminal)
    window = timedelta(hours=context.config.sessions.offline_window_h)
    spent = spent_offline(session, terminal.id, user.id, window)
    if spent + amount > limit:
        raise LedgerError(
            "offline_limit_exceeded",
            f"{fmt(amount)} without a session, {fmt(spent)} already in the last "
            f"{window.total_seconds() / 3600:g} h; this terminal's offline limit is "
            f"{fmt(limit)}")


def note(session: Session, terminal: Terminal, hold: Hold, shown: Presented) -> None:
    """Mark and audit an offline hold; refresh the live session's last use."""
    if shown.offline_reason is None:
        if shown.needs_touch and shown.session_id is not None:
            terminal_sessions.touch(session, shown.session_id)
        return
    hold.offline = True
    record(session, f"terminal:{terminal.id}", "hold.offline", hold.id, {
        "amount": fmt(hold.amount), "user_id": hold.user_id, "reason": shown.offline_reason,
        "payer": hold.payer})
    session.flush()
