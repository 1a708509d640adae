"""Who is at the terminal: by card (keyed hash lookup) or by username + PIN.

Failed PIN attempts are counted per username as typed (``pin_attempts``), known or not,
and lock that name for ``pin_lockout_s`` after ``pin_max_attempts`` wrong PINs in a row.
An unknown username costs the same scrypt (against a dummy hash), gets the same answer
and locks the same way, so the terminal cannot be used to discover user names.

Why three steps: scrypt takes tens of milliseconds, and on SQLite a write transaction is
the database's one write lock; checking the PIN inside it made every hold of the site
wait behind PIN logins (hold p95 27 -> 765 ms). So the user and the lock state are read
in a read transaction, the PIN is checked with no transaction open, and a short write
then records the outcome. That write re-reads the counter under the lock (``FOR UPDATE``
on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite): wrong PINs checked at the same moment
still count one by one, and a PIN that arrives after the lock fell is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.db import Database
from backend.ledger import LedgerError
from backend.models import Card, PinAttempt, User, utcnow
from backend.security import card_hash, dummy_pin_hash, verify_pin

WRONG_PIN = "unknown user or wrong PIN"


def by_card(session: Session, secret: bytes, raw_card: str) -> User:
    digest = card_hash(secret, raw_card)
    user = session.scalar(select(User).join(Card, Card.user_id == User.id)
                          .where(Card.card_hash == digest))
    if user is None:
        raise LedgerError("card_unknown", "no user has this card")
    _check_enabled(user.username, user.status)
    return user


def by_pin(db: Database, secret: bytes, username: str, pin: str, max_attempts: int,
           lockout_s: int) -> int:
    """The id of the user whose PIN this is, or a ``LedgerError`` (``pin_invalid``,
    ``pin_locked``, ``user_disabled``). Opens its own transactions: call it with none
    open, and load the user afterwards."""
    with db.read() as session:
        found = session.execute(select(User.id, User.pin_hash, User.status)
                                .where(User.username == username)).first()
        locked_until = session.scalar(select(PinAttempt.locked_until)
                                      .where(PinAttempt.username == username))
    if locked_until is not None and locked_until > utcnow():
        raise _locked(locked_until)
    stored = found.pin_hash if found is not None else None
    check = verify_pin(secret, pin, stored or dummy_pin_hash())  # no transaction open
    if found is None or stored is None or not check.ok:
        with db.write() as session:
            refusal = _record_failure(session, username, max_attempts, lockout_s)
        raise refusal
    with db.write() as session:
        refused = _record_success(session, username)
        if refused is None and check.rekey is not None:
            # Only if nobody set a new PIN meanwhile (``printkiosk backend set-pin``).
            session.execute(update(User).where(User.id == found.id, User.pin_hash == stored)
                            .values(pin_hash=check.rekey))
    if refused is not None:
        raise refused
    _check_enabled(username, found.status)
    return int(found.id)


def _record_failure(session: Session, username: str, max_attempts: int,
                    lockout_s: int) -> LedgerError:
    attempt = _attempt_for_update(session, username)
    now = utcnow()
    if attempt.locked_until is not None and attempt.locked_until > now:
        return _locked(attempt.locked_until)  # locked by another attempt meanwhile
    attempt.failed_attempts += 1
    if attempt.failed_attempts >= max_attempts:
        attempt.failed_attempts = 0
        attempt.locked_until = now + timedelta(seconds=lockout_s)
        # Rows of locks that are over say nothing any more: drop them, so that names
        # tried once by a guesser do not pile up for ever.
        session.execute(delete(PinAttempt).where(PinAttempt.failed_attempts == 0,
                                                 PinAttempt.locked_until < now))
    return LedgerError("pin_invalid", WRONG_PIN)


def _record_success(session: Session, username: str) -> LedgerError | None:
    """Reset the counter, unless a lock fell while the PIN was being checked."""
    attempt = session.get(PinAttempt, username, with_for_update=True)
    if attempt is None:
        return None
    if attempt.locked_until is not None and attempt.locked_until > utcnow():
        return _locked(attempt.locked_until)
    session.delete(attempt)
    return None


def _attempt_for_update(session: Session, username: str) -> PinAttempt:
    """The username's counter row, created if missing, locked until commit. Insert-or-
    nothing first: two processes creating it at once must not fail on the primary key."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(PinAttempt).values(username=username, failed_attempts=0)
                    .on_conflict_do_nothing(index_elements=["username"]))
    attempt = session.get(PinAttempt, username, with_for_update=True, populate_existing=True)
    assert attempt is not None
    return attempt


def _locked(until: datetime) -> LedgerError:
    return LedgerError("pin_locked", f"PIN locked until {until.isoformat()}")


def _check_enabled(username: str, status: str) -> None:
    if status != "active":
        raise LedgerError("user_disabled", f"user {username} is disabled")
