"""Terminal enrolment (one-time key -> per-terminal token), authentication, revocation.

Only hashes of keys and tokens are stored. A token is shown once, at enrolment. State
``new`` until the terminal's first authenticated call, then ``connected``; a terminal not
seen for ``DISCONNECTED_AFTER`` reads as ``disconnected``.

Revoking a terminal voids its open holds at once (a kiosk that will never call again
would otherwise block those users' credit until hold expiry) and ends its user
sessions; both are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import terminal_sessions
from backend.audit import record
from backend.holds_expiry import void_open_holds
from backend.ledger import ZERO, LedgerError
from backend.models import EnrolmentKey, Hold, Terminal, utcnow
from backend.money import fmt
from backend.security import new_token, token_hash

DISCONNECTED_AFTER = timedelta(minutes=5)
# last_seen is written at most this often, so that reads do not all become writes.
LAST_SEEN_RESOLUTION = timedelta(seconds=30)


# A key made from the console lives this long unless the administrator says otherwise.
DEFAULT_KEY_LIFETIME = timedelta(days=7)
MAX_KEY_LIFETIME = timedelta(days=90)


def create_enrolment_key(session: Session, secret: bytes, actor: str,
                         key: str | None = None, expires_at: datetime | None = None,
                         origin: str | None = None) -> str:
    """A one-time key (shown once: only its hash is kept); ``expires_at`` None never
    expires (the CLI's keys, as before)."""
    if expires_at is not None and not utcnow() < expires_at <= utcnow() + MAX_KEY_LIFETIME:
        raise LedgerError("enrolment_key_expiry_invalid",
                          f"expiry {expires_at.isoformat()}: must be in the future and "
                          f"within {MAX_KEY_LIFETIME.days} days")
    key = key or new_token()
    row = EnrolmentKey(key_hash=token_hash(secret, key), expires_at=expires_at,
                       created_by=actor)
    session.add(row)
    session.flush()
    record(session, actor, "enrolment_key.create", str(row.id),
           {"expires_at": expires_at.isoformat() if expires_at else None}, origin=origin)
    return key


def key_state(key: EnrolmentKey, now: datetime | None = None) -> str:
    """unused | used | expired | revoked."""
    if key.used_at is not None:
        return "used"
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= (now or utcnow()):
        return "expired"
    return "unused"


def revoke_enrolment_key(session: Session, key_id: int, actor: str,
                         origin: str | None = None) -> EnrolmentKey:
    """Make an unused key useless; a used, expired or revoked one is refused."""
    key = session.get(EnrolmentKey, key_id, with_for_update=True)
    if key is None:
        raise LedgerError("enrolment_key_unknown", f"no enrolment key {key_id}")
    state = key_state(key)
    if state != "unused":
        raise LedgerError("enrolment_key_not_unused", f"enrolment key {key_id} is {state}")
    key.revoked_at = utcnow()
    record(session, actor, "enrolment_key.revoke", str(key_id), origin=origin)
    session.flush()
    return key


def enrol(session: Session, secret: bytes, enrolment_key: str, name: str,
          device: str | None = None, device_model: str | None = None,
          offline_limit: Decimal | None = None) -> tuple[str, str]:
    """Spend the key; return (terminal id, token). ``offline_limit`` is what the kiosk
    may let a user spend offline (its configuration), kept to cap its offline holds."""
    key = session.scalar(
        select(EnrolmentKey).where(EnrolmentKey.key_hash == token_hash(secret, enrolment_key))
        .with_for_update()
    )
    if key is None:
        raise LedgerError("enrolment_key_invalid", "unknown enrolment key")
    if key.used_at is not None:
        raise LedgerError("enrolment_key_used", "this enrolment key was already used")
    if key_state(key) != "unused":  # expired or revoked: as unknown to the caller
        raise LedgerError("enrolment_key_invalid", "unknown enrolment key")
    token = new_token()
    terminal = Terminal(name=name, token_hash=token_hash(secret, token), state="new",
                        device=device, device_model=device_model, offline_limit=offline_limit)
    session.add(terminal)
    session.flush()
    key.used_at = utcnow()
    key.terminal_id = terminal.id
    record(session, f"terminal:{terminal.id}", "terminal.enrol", terminal.id, {"name": name})
    return terminal.id, token


def register_terminal(session: Session, secret: bytes, name: str, token: str) -> Terminal:
    """Create a terminal with a known token (demo data and tests), idempotently."""
    digest = token_hash(secret, token)
    terminal = session.scalar(select(Terminal).where(Terminal.token_hash == digest))
    if terminal is None:
        terminal = Terminal(name=name, token_hash=digest, state="new")
        session.add(terminal)
        session.flush()
    return terminal


def authenticate(session: Session, secret: bytes, token: str) -> Terminal:
    terminal = session.scalar(
        select(Terminal).where(Terminal.token_hash == token_hash(secret, token))
    )
    if terminal is None:
        raise LedgerError("terminal_unauthorized", "unknown terminal token")
    if terminal.revoked_at is not None:
        raise LedgerError("terminal_revoked", "this terminal's token was revoked")
    return terminal


def needs_touch(terminal: Terminal) -> bool:
    last = terminal.last_seen_at
    return last is None or utcnow() - last > LAST_SEEN_RESOLUTION


def touch(session: Session, terminal: Terminal) -> None:
    """Record that the terminal was seen."""
    session.execute(update(Terminal).where(Terminal.id == terminal.id)
                    .values(last_seen_at=utcnow(), state="connected"))


def effective_state(terminal: Terminal) -> str:
    if terminal.revoked_at is not None:
        return "revoked"
    if terminal.last_seen_at is None:
        return "new"
    return "connected" if utcnow() - terminal.last_seen_at < DISCONNECTED_AFTER else (
        "disconnected")


@dataclass(frozen=True)
class Revocation:
    """What revoking did: the holds voided (and their total) and the sessions ended."""

    terminal: Terminal
    voided_holds: int
    voided_amount: Decimal
    ended_sessions: int


def revoke(session: Session, terminal_id: str, actor: str,
           origin: str | None = None) -> Revocation:
    """Revoke the token, void the terminal's open holds and end its sessions. Run again on
    a revoked terminal it voids what is still open (a hold sent just before)."""
    terminal = session.get(Terminal, terminal_id)
    if terminal is None:
        raise LedgerError("terminal_unknown", f"no terminal {terminal_id}")
    now = utcnow()
    first = terminal.revoked_at is None
    if first:
        terminal.revoked_at = now
    voided = _void_open_holds(session, terminal_id, actor, origin)
    amount = sum((hold.amount for hold in voided), ZERO)
    ended = terminal_sessions.end_all(session, terminal_id, now)
    if first or voided or ended:
        record(session, actor, "terminal.revoke", terminal_id, {
            "voided_holds": len(voided), "voided_amount": fmt(amount),
            "ended_sessions": ended}, origin=origin)
    session.flush()
    return Revocation(terminal, len(voided), amount, ended)


def _void_open_holds(session: Session, terminal_id: str, actor: str,
                     origin: str | None) -> list[Hold]:
    """Void the terminal's open holds, each audited ``hold.void_revoked``."""
    open_ids = session.scalars(
        select(Hold.id).where(Hold.terminal_id == terminal_id, Hold.status == "open")
        .order_by(Hold.user_id, Hold.id)).all()
    return void_open_holds(session, open_ids, actor, "hold.void_revoked", origin)
