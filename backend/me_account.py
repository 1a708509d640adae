"""What the user's own page (/me) reads and changes, with no HTTP in it.

Every function takes the signed-in user's id and nothing else names whose data it is:
there is no id of a user, hold or transaction in /me's URLs or forms to change, so one
user cannot ask for another's rows (the pages' only ids are top-up public ids, checked
against the user here). Changes are audited as the user's own (``user:<username>``) with
the page's origin, in the transaction of the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import ledger, vouchers
from backend.audit import record
from backend.config import BackendConfig
from backend.db import Database
from backend.models import (
    Account,
    Hold,
    LedgerEntry,
    LedgerTransaction,
    Print3DJob,
    TopUp,
    User,
    utcnow,
)
from backend.money import fmt
from backend.voucher_limits import GuessLimits
from backend.web.passwords import hash_password, password_problem, verify_password
from backend.web.sessions import end_user_sessions

T = TypeVar("T")
PER_PAGE = 20
MAX_PAGE = 10_000
LANGUAGES = ("en", "fr")


def actor_of(username: str) -> str:
    """The audit log's name for a user acting on their own account."""
    return f"user:{username}"


@dataclass(frozen=True)
class TransactionRow:
    id: int
    kind: str
    description: str
    amount: Decimal  # what it did to the user's own accounts (virtual + personal)
    at: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    number: int
    more: bool  # a next page exists


def transactions(session: Session, user_id: int, page: int = 1,
                 per_page: int = PER_PAGE) -> Page[TransactionRow]:
    """The user's transactions, newest first, with their effect on the user's accounts."""
    page = min(max(page, 1), MAX_PAGE)
    own = select(Account.id).where(Account.user_id == user_id)
    amount = (select(func.coalesce(func.sum(LedgerEntry.amount), Decimal("0")))
              .where(LedgerEntry.transaction_id == LedgerTransaction.id,
                     LedgerEntry.account_id.in_(own))
              .correlate(LedgerTransaction).scalar_subquery())
    found = session.execute(
        select(LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.description,
               amount, LedgerTransaction.created_at)
        .where(LedgerTransaction.user_id == user_id)
        .order_by(LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc())
        .limit(per_page + 1).offset((page - 1) * per_page)).all()
    rows = [TransactionRow(row[0], row[1], row[2], Decimal(row[3] or 0), row[4])
            for row in found[:per_page]]
    return Page(rows, page, len(found) > per_page)


def print_jobs(session: Session, user_id: int, page: int = 1,
               per_page: int = PER_PAGE) -> Page[Hold]:
    """The user's print holds (open, captured, voided), newest first."""
    page = min(max(page, 1), MAX_PAGE)
    found = list(session.scalars(
        select(Hold).where(Hold.user_id == user_id)
        .order_by(Hold.created_at.desc(), Hold.id.desc())
        .limit(per_page + 1).offset((page - 1) * per_page)))
    return Page(found[:per_page], page, len(found) > per_page)


def print3d_jobs(session: Session, user_id: int, limit: int = PER_PAGE) -> list[Print3DJob]:
    """The user's 3D jobs, newest first (none on a site without 3D printers)."""
    return list(session.scalars(
        select(Print3DJob).where(Print3DJob.user_id == user_id)
        .order_by(Print3DJob.uploaded_at.desc(), Print3DJob.id.desc()).limit(limit)))


def recent_top_ups(session: Session, user_id: int, limit: int = 5) -> list[TopUp]:
    return list(session.scalars(select(TopUp).where(TopUp.user_id == user_id)
                                .order_by(TopUp.created_at.desc(), TopUp.id.desc())
                                .limit(limit)))


def own_top_up(session: Session, user_id: int, public_id: str) -> TopUp | None:
    """The user's top-up ``public_id``; another user's is None, as an unknown one."""
    top_up = session.scalar(select(TopUp).where(TopUp.public_id == public_id[:32]))
    return top_up if top_up is not None and top_up.user_id == user_id else None


def own_transaction(session: Session, user_id: int,
                    transaction_id: int) -> LedgerTransaction | None:
    found = session.get(LedgerTransaction, transaction_id)
    return found if found is not None and found.user_id == user_id else None


def set_language(session: Session, user_id: int, language: str, origin: str) -> bool:
    """Save the account's language (the kiosk uses it too); True when it changed."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: one of {', '.join(LANGUAGES)}")
    user = session.get(User, user_id)
    assert user is not None
    if user.language == language:
        return False
    before, user.language = user.language, language
    record(session, actor_of(user.username), "user.language", user.username,
           {"from": before, "to": language}, origin=origin)
    return True


@dataclass(frozen=True)
class PasswordRefusal:
    field: str  # "current" | "new" | "repeat": which field the message goes next to
    reason: str  # "wrong_current" | "mismatch" | "same" | password_problem's text


def password_refusal(secret: bytes, stored: str | None, current: str, new: str,
                     repeat: str) -> PasswordRefusal | None:
    """Why the change cannot be made, or None. The current password is checked first
    (one scrypt whatever else is wrong, like a sign-in)."""
    if not verify_password(secret, current, stored):
        return PasswordRefusal("current", "wrong_current")
    problem = password_problem(new)
    if problem is not None:
        return PasswordRefusal("new", problem)
    if new != repeat:
        return PasswordRefusal("repeat", "mismatch")
    if new == current:
        return PasswordRefusal("new", "same")
    return None


def change_password(session: Session, secret: bytes, user_id: int, new: str,
                    origin: str) -> int:
    """Set the new password and end every /me session of the user (the caller opens a
    fresh one for the browser that made the change); returns how many were ended."""
    user = ledger.lock_user(session, user_id)
    user.password_hash = hash_password(secret, new)
    ended = end_user_sessions(session, user_id, area="me")
    record(session, actor_of(user.username), "user.password", user.username,
           {"sessions_ended": ended}, origin=origin)
    return ended


@dataclass(frozen=True)
class Redeemed:
    value: Decimal
    transaction_id: int


def redeem_voucher(db: Database, secret: bytes, config: BackendConfig, user_id: int,
                   typed: str, origin: str,
                   now: datetime | None = None) -> Redeemed | vouchers.Refusal:
    """Redeem a typed voucher code for the user, as the kiosk's ``POST /vouchers/redeem``
    does: a typo is refused before any lookup and never counts; an unknown code counts
    against the user's guessing limit, which the kiosks share (no terminal: /me has
    none). Exactly once by the voucher's own state: a second post of the same code is
    ``voucher_redeemed``."""
    body = vouchers.check_typed(typed)
    if isinstance(body, vouchers.Refusal):
        return body
    settings = config.vouchers
    with db.write() as session:
        user = ledger.lock_user(session, user_id)
        actor = actor_of(user.username)
        outcome = vouchers.redeem(session, secret, user=user, terminal_id=None, body=body,
                                  currency=config.ledger.currency,
                                  limits=GuessLimits.from_settings(settings),
                                  timezone=settings.timezone, now=now, actor=actor,
                                  origin=origin)
        if isinstance(outcome, vouchers.Refusal):
            return outcome  # committed all the same: the guess or the lockout
        record(session, actor, "voucher.redeem", outcome.batch.public_id,
               {"serial": outcome.voucher.serial, "value": fmt(outcome.batch.value),
                "transaction_id": outcome.transaction.id}, origin=origin)
        return Redeemed(outcome.batch.value, outcome.transaction.id)


def locked_until(refusal: vouchers.Refusal, now: datetime | None = None) -> datetime | None:
    """When a ``voucher_rate_limited`` refusal ends."""
    if refusal.retry_after_s is None:
        return None
    return (now or utcnow()) + timedelta(seconds=refusal.retry_after_s)

