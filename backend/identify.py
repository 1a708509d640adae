"""Who is at the terminal: by card (keyed hash lookup) or by username + PIN.

Failed PIN attempts are counted per user and lock the PIN for a while after
``pin_max_attempts``; an unknown username answers exactly like a wrong PIN so that the
terminal cannot be used to discover user names.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.ledger import LedgerError
from backend.models import Card, User, utcnow
from backend.security import card_hash, verify_pin


def by_card(session: Session, secret: bytes, raw_card: str) -> User:
    digest = card_hash(secret, raw_card)
    user = session.scalar(select(User).join(Card, Card.user_id == User.id)
                          .where(Card.card_hash == digest))
    if user is None:
        raise LedgerError("card_unknown", "no user has this card")
    _check_enabled(user)
    return user


def by_pin(session: Session, username: str, pin: str, max_attempts: int,
           lockout_s: int) -> User:
    """Check a PIN inside a write transaction (it records failed attempts)."""
    user = session.scalar(select(User).where(User.username == username).with_for_update())
    if user is None or user.pin_hash is None:
        raise LedgerError("pin_invalid", "unknown user or wrong PIN")
    now = utcnow()
    if user.pin_locked_until is not None and user.pin_locked_until > now:
        raise LedgerError("pin_locked", f"PIN locked until {user.pin_locked_until.isoformat()}")
    if not verify_pin(pin, user.pin_hash):
        user.pin_failed_attempts += 1
        if user.pin_failed_attempts >= max_attempts:
            user.pin_failed_attempts = 0
            user.pin_locked_until = now + timedelta(seconds=lockout_s)
        raise LedgerError("pin_invalid", "unknown user or wrong PIN")
    user.pin_failed_attempts = 0
    user.pin_locked_until = None
    _check_enabled(user)
    return user


def _check_enabled(user: User) -> None:
    if user.status != "active":
        raise LedgerError("user_disabled", f"user {user.username} is disabled")
