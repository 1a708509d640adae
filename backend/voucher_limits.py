"""Guessing limits on voucher redemption: failed attempts per terminal and per user.

A voucher code is a bearer secret of 65 bits, so guessing one is hopeless unless nobody
stops the guesser; the limit is what makes the 65 bits enough. Only a well-formed code
that matches no voucher counts (``voucher_unknown``): a typo is caught by the check
character before the database is asked, and a real card that is redeemed, expired or
revoked proves the person holds a card, not that they guess.

Why a table and not ``backend.rate_limits``' token buckets: the limit must hold across
restarts and across backend processes on one PostgreSQL, and it must be exact under
concurrency. The count and the record are in the write transaction of the redemption,
after the terminal's row and the user's row are locked (SQLite: the database write
lock), so 16 concurrent guesses from one terminal are counted one after the other and
cannot all slip under the limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from backend.audit import record
from backend.config import VoucherSettings
from backend.models import Terminal, VoucherFailure, VoucherLockout


@dataclass(frozen=True)
class GuessLimits:
    max_failed: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: VoucherSettings) -> GuessLimits:
        return cls(settings.max_failed_attempts, timedelta(minutes=settings.failure_window_min))


@dataclass(frozen=True)
class Lockout:
    scope: str  # "terminal" | "user": which limit (the later one when both)
    until: datetime
    failures: int

    def retry_after_s(self, now: datetime) -> int:
        return max(1, math.ceil((self.until - now).total_seconds()))


def lock_terminal(session: Session, terminal_id: str) -> None:
    """Serialise this terminal's redemptions (``FOR NO KEY UPDATE``: a hold inserted for
    the terminal meanwhile only needs a key-share lock on the row, so it does not wait,
    and a revocation, which locks the terminal before users, takes the same order)."""
    session.execute(select(Terminal.id).where(Terminal.id == terminal_id)
                    .with_for_update(key_share=True))


def _scope_lockout(session: Session, limits: GuessLimits, scope: str,
                   owned: ColumnElement[bool], now: datetime) -> Lockout | None:
    """Locked while ``max_failed`` failures are in the window: until the ``max_failed``-th
    most recent of them leaves it."""
    since = now - limits.window
    recent = list(session.scalars(
        select(VoucherFailure.at).where(owned, VoucherFailure.at > since)
        .order_by(VoucherFailure.at.desc()).limit(limits.max_failed)))
    if len(recent) < limits.max_failed:
        return None
    return Lockout(scope, recent[-1] + limits.window, limits.max_failed)


def current_lockout(session: Session, limits: GuessLimits, terminal_id: str | None,
                    user_id: int, now: datetime) -> Lockout | None:
    """The lockout that applies to this terminal or this user now, the longer of the two.
    ``terminal_id`` None: the user's own page, where only the user's limit applies (the
    same count as at the kiosks: the page gives a guesser no attempts of its own)."""
    scopes = [_scope_lockout(session, limits, "user", VoucherFailure.user_id == user_id,
                             now)]
    if terminal_id is not None:
        scopes.append(_scope_lockout(session, limits, "terminal",
                                     VoucherFailure.terminal_id == terminal_id, now))
    found = [lockout for lockout in scopes if lockout is not None]
    return max(found, key=lambda lockout: lockout.until) if found else None


def note_refusal(session: Session, lockout: Lockout, terminal_id: str | None, user_id: int,
                 now: datetime, actor: str | None = None, origin: str | None = None) -> None:
    """Record (and audit) the lockout at its first refusal; later refusals of the same
    lockout add nothing, so that a guesser cannot fill the audit log. ``actor`` and
    ``origin``: who and where, when not a terminal (the user's own page)."""
    owner = (VoucherLockout.terminal_id == terminal_id if lockout.scope == "terminal"
             else VoucherLockout.user_id == user_id)
    known = session.scalar(select(VoucherLockout.id).where(
        VoucherLockout.scope == lockout.scope, owner, VoucherLockout.until > now).limit(1))
    if known is not None:
        return
    session.add(VoucherLockout(scope=lockout.scope, terminal_id=terminal_id, user_id=user_id,
                               failures=lockout.failures, started_at=now,
                               until=lockout.until))
    record(session, actor or f"terminal:{terminal_id}", "voucher.lockout", lockout.scope,
           {"terminal_id": terminal_id, "user_id": user_id, "count": lockout.failures,
            "until": lockout.until.isoformat()}, origin=origin)
    session.flush()


def record_failure(session: Session, limits: GuessLimits, terminal_id: str | None,
                   user_id: int, now: datetime) -> None:
    """One more guess; failures of this terminal or user that left the window go."""
    owners = [VoucherFailure.user_id == user_id]
    if terminal_id is not None:
        owners.append(VoucherFailure.terminal_id == terminal_id)
    session.execute(delete(VoucherFailure).where(or_(*owners),
                                                 VoucherFailure.at <= now - limits.window))
    session.add(VoucherFailure(terminal_id=terminal_id, user_id=user_id, at=now))
    session.flush()


def recent_lockouts(session: Session, since: datetime) -> list[VoucherLockout]:
    return list(session.scalars(select(VoucherLockout).where(
        VoucherLockout.started_at >= since).order_by(VoucherLockout.started_at.desc())))
