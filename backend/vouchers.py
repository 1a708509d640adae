"""Voucher batches: creation, sale, redemption, revocation, expiry and their accounting.

The functions run inside ``Database.write()`` (expiry opens its own transactions). The
accounting follows ``backend.ledger``'s signs (a balance the organisation owes is
positive, like a user's credit; money it holds, such as the cash drawer, is negative):

* sale: cash drawer (or ``voucher_receivable`` for an invoice) -> voucher liability;
* redemption: voucher liability -> the user's personal credit;
* expiry: voucher liability -> revenue (breakage);
* revocation of a sold voucher: liability -> where it was sold from (refund) or revenue
  (forfeit).

So the liability is always the value of the vouchers still redeemable: sold, neither
redeemed, revoked nor expired (``ledger.check_invariants`` proves it after every test).
Exactly once: every change of a voucher's state is one conditional UPDATE whose
``WHERE`` names the states it leaves, so of two concurrent redemptions (or a redemption
racing the expiry job or a revocation) only one changes the row and posts.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from backend import ledger, voucher_export
from backend.audit import record
from backend.ledger import LedgerError
from backend.models import (
    AccountKind,
    LedgerTransaction,
    User,
    Voucher,
    VoucherBatch,
    utcnow,
)
from backend.money import MAX_AMOUNT, fmt
from backend.security import keyed_hash
from backend.voucher_limits import GuessLimits, current_lockout, note_refusal, record_failure
from billing.voucher_codes import VoucherCode, assess, new_code, validate_prefix

MAX_COUNT = 100_000
Payment = Literal["cash", "invoice"]
SoldVouchers = Literal["refund", "forfeit"]
SOURCE_ACCOUNT = {"cash": AccountKind.CASH_DRAWER, "invoice": AccountKind.VOUCHER_RECEIVABLE}
CHUNK = 1000  # serials per statement: far below SQLite's 32 766 bound parameters


def code_hash(secret: bytes, body: str) -> str:
    """The stored form of a code: only the 14-character body is the secret."""
    return keyed_hash(secret, body, "voucher")


def today(timezone: str | None, now: datetime | None = None) -> date:
    """The calendar day of expiry dates: the site's time zone, or UTC."""
    moment = now or utcnow()
    return moment.astimezone(ZoneInfo(timezone) if timezone else UTC).date()


@dataclass(frozen=True)
class CreatedBatch:
    batch: VoucherBatch
    codes: list[VoucherCode]  # in serial order: codes[0] is serial 1
    export_token: str | None


def find_batch(session: Session, public_id: str, *, lock: bool = False) -> VoucherBatch:
    query = select(VoucherBatch).where(VoucherBatch.public_id == public_id.strip())
    if lock:
        query = query.with_for_update(key_share=True).execution_options(
            populate_existing=True)
    batch = session.scalar(query)
    if batch is None:
        raise LedgerError("voucher_batch_unknown",
                          f"no voucher batch {public_id!r} (printkiosk vouchers list)")
    return batch


def _new_public_id(prefix: str) -> str:
    return f"{prefix or 'V'}-{secrets.token_hex(3).upper()}"


def create_batch(session: Session, secret: bytes, *, value: Decimal, currency: str,
                 count: int, expires_on: date, prefix: str, note: str, actor: str,
                 timezone: str | None = None, public_id: str | None = None,
                 randbits: Callable[[int], int] = secrets.randbits,
                 sealed: bool = True, origin: str | None = None) -> CreatedBatch:
    """Create ``count`` vouchers; return their plain codes (for the export file, once)
    and the one-time export token (None when ``sealed`` is False: the demo, whose codes
    come from a public seed)."""
    if not 1 <= count <= MAX_COUNT:
        raise LedgerError("voucher_count_invalid",
                          f"count {count}: a batch holds 1 to {MAX_COUNT} vouchers")
    if not 0 < value <= MAX_AMOUNT:
        raise LedgerError("amount_invalid", f"value {fmt(value)}: must be > 0 and "
                          f"<= {MAX_AMOUNT}")
    if expires_on <= today(timezone):
        raise LedgerError("voucher_expiry_invalid",
                          f"expiry {expires_on.isoformat()}: must be a future date")
    try:
        prefix = validate_prefix(prefix) if prefix else ""
    except ValueError as exc:
        raise LedgerError("voucher_prefix_invalid", str(exc)) from exc
    batch = VoucherBatch(public_id=public_id or _new_public_id(prefix), prefix=prefix,
                         value=value, currency=currency, count=count, expires_on=expires_on,
                         note=note, created_by=actor)
    session.add(batch)
    session.flush()
    codes: list[VoucherCode] = []
    seen: set[str] = set()
    while len(codes) < count:
        code = new_code(prefix, randbits)
        if code.body not in seen:  # 65 bits: a repeat is all but impossible; still exact
            seen.add(code.body)
            codes.append(code)
    session.execute(insert(Voucher), [
        {"batch_id": batch.id, "serial": serial, "code_hash": code_hash(secret, code.body)}
        for serial, code in enumerate(codes, start=1)])
    token = None
    if sealed:
        token = voucher_export.new_export_token()
        batch.export_blob = voucher_export.seal(secret, token, batch.public_id,
                                                [code.body for code in codes])
        batch.export_token_hash = voucher_export.token_hash(secret, token)
    record(session, actor, "voucher.create", batch.public_id, {
        "value": fmt(value), "currency": currency, "count": count,
        "expires_on": expires_on.isoformat(), "prefix": prefix, "note": note}, origin=origin)
    session.flush()
    return CreatedBatch(batch, codes, token)


def export_codes(session: Session, secret: bytes, public_id: str, token: str,
                 actor: str, origin: str | None = None
                 ) -> tuple[VoucherBatch, list[VoucherCode]]:
    """The plain codes once more, with the export token; then they are gone for good."""
    batch = find_batch(session, public_id, lock=True)
    if batch.export_blob is None or batch.export_token_hash is None:
        raise LedgerError("voucher_export_used",
                          f"batch {batch.public_id}: its codes were already exported with "
                          "the token; the database keeps no plain code")
    if voucher_export.token_hash(secret, token.strip()) != batch.export_token_hash:
        raise LedgerError("voucher_export_token_invalid",
                          f"batch {batch.public_id}: that is not its export token")
    bodies = voucher_export.unseal(secret, token.strip(), batch.public_id, batch.export_blob)
    if bodies is None:
        raise LedgerError("voucher_export_token_invalid",
                          f"batch {batch.public_id}: the codes cannot be decrypted (the "
                          "server secret changed since creation?)")
    batch.export_blob = None
    batch.export_token_hash = None
    record(session, actor, "voucher.export", batch.public_id, {"count": len(bodies)},
           origin=origin)
    session.flush()
    return batch, [VoucherCode(body, batch.prefix) for body in bodies]


def export_rows(batch: VoucherBatch,
                codes: Sequence[VoucherCode]) -> list[voucher_export.ExportRow]:
    value, expires = fmt(batch.value), batch.expires_on.isoformat()  # once, not per row
    return [voucher_export.ExportRow(batch.public_id, serial, code.display, value,
                                     batch.currency, expires)
            for serial, code in enumerate(codes, start=1)]


@dataclass(frozen=True)
class Sale:
    batch: VoucherBatch
    first_serial: int
    last_serial: int
    count: int
    transaction: LedgerTransaction


def sell(session: Session, public_id: str, count: int, payment: Payment, buyer: str,
         actor: str, timezone: str | None = None, *, serials: Sequence[int] | None = None,
         origin: str | None = None) -> Sale:
    """Sell the next ``count`` vouchers of the batch in stock (lowest serials first), or
    exactly ``serials`` (the cash desk's range; each must be in stock, ``count`` is then
    their number). ``origin``: where the sale came from, for the audit (a page)."""
    if payment not in SOURCE_ACCOUNT:
        raise LedgerError("voucher_payment_invalid",
                          f"payment {payment!r}: use cash or invoice")
    batch = find_batch(session, public_id, lock=True)
    if batch.revoked_at is not None:
        raise LedgerError("voucher_revoked", f"batch {batch.public_id} is revoked")
    if batch.expires_on < today(timezone):
        raise LedgerError("voucher_expired",
                          f"batch {batch.public_id} expired on {batch.expires_on.isoformat()}")
    stock: tuple[Any, ...] = (Voucher.batch_id == batch.id, Voucher.sold_at.is_(None),
                              Voucher.revoked_at.is_(None))
    if serials is not None:
        wanted = sorted(set(serials))
        count = len(wanted)
        stock = (*stock, Voucher.serial.in_(wanted))
    found = list(session.scalars(select(Voucher.serial).where(*stock)
                                 .order_by(Voucher.serial).limit(max(count, 0))))
    if serials is not None and len(found) < count:
        missing = sorted(set(wanted) - set(found))
        shown = ", ".join(str(serial) for serial in missing[:10])
        raise LedgerError("voucher_not_in_stock",
                          f"batch {batch.public_id}: serial(s) {shown} are not in stock "
                          "(sold or revoked)")
    serials = found
    if count < 1 or len(serials) < count:
        available = session.scalar(select(func.count()).select_from(Voucher).where(*stock))
        raise LedgerError("voucher_stock_short",
                          f"batch {batch.public_id}: cannot sell {count}: {available} "
                          "voucher(s) in stock")
    total = batch.value * count
    liability = ledger.get_account(session, AccountKind.VOUCHER_LIABILITY, batch.currency)
    source = ledger.get_account(session, SOURCE_ACCOUNT[payment], batch.currency)
    transaction = ledger.post(session, LedgerTransaction(
        kind="voucher_sale", actor=actor, reason=buyer or None,
        description=f"{count} voucher(s) {batch.public_id} #{serials[0]}-{serials[-1]} "
                    f"sold ({payment})"), [(liability, total), (source, -total)])
    changed = session.execute(
        update(Voucher).where(*stock, Voucher.serial <= serials[-1])
        .values(sold_at=utcnow(), sold_via=payment, sale_transaction_id=transaction.id)
        .execution_options(synchronize_session=False))
    assert changed.rowcount == count  # type: ignore[attr-defined]  # under the batch lock
    record(session, actor, "voucher.sell", batch.public_id, {
        "count": count, "first": serials[0], "last": serials[-1], "payment": payment,
        "buyer": buyer, "amount": fmt(total), "transaction_id": transaction.id},
        origin=origin)
    session.flush()
    return Sale(batch, serials[0], serials[-1], count, transaction)


@dataclass(frozen=True)
class Refusal:
    """Why a redemption was refused: the API's problem ``code`` and its extra fields."""

    code: str
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)
    retry_after_s: int | None = None


@dataclass(frozen=True)
class Redemption:
    batch: VoucherBatch
    voucher: Voucher
    transaction: LedgerTransaction


def check_typed(text: str) -> str | Refusal:
    """The body of a well-formed code, or the ``voucher_typo`` refusal (never counted)."""
    assessment = assess(text)
    if assessment.status == "valid":
        return assessment.body
    return Refusal("voucher_typo", f"the code is {assessment.status.replace('_', ' ')}: "
                   "check it (the check character or a character is wrong)")


def redeem(session: Session, secret: bytes, *, user: User, terminal_id: str | None,
           body: str, currency: str, limits: GuessLimits, timezone: str | None = None,
           now: datetime | None = None, actor: str | None = None,
           origin: str | None = None) -> Redemption | Refusal:
    """Redeem the code ``body`` (from :func:`check_typed`) for ``user``.

    The caller holds the terminal's lock (``voucher_limits.lock_terminal``) and the
    user's (``ledger.lock_user``), in that order, and commits whatever this returns:
    a refusal records the guess or the lockout. ``terminal_id`` None: the user's own
    page (only the user's guessing limit applies; ``actor``/``origin`` say who and where).
    """
    now = now or utcnow()
    lockout = current_lockout(session, limits, terminal_id, user.id, now)
    if lockout is not None:
        note_refusal(session, lockout, terminal_id, user.id, now, actor, origin)
        wait_s = lockout.retry_after_s(now)
        return Refusal("voucher_rate_limited",
                       f"too many unknown voucher codes from this {lockout.scope}; "
                       f"retry in {wait_s} s", {"retry_after_s": wait_s}, wait_s)
    found = session.execute(select(Voucher, VoucherBatch)
                            .join(VoucherBatch, VoucherBatch.id == Voucher.batch_id)
                            .where(Voucher.code_hash == code_hash(secret, body))
                            .execution_options(populate_existing=True)).one_or_none()
    if found is None:
        record_failure(session, limits, terminal_id, user.id, now)
        return Refusal("voucher_unknown", "no voucher has this code")
    voucher, batch = found
    refusal = _state_refusal(voucher, batch, currency, today(timezone, now))
    if refusal is not None:
        return refusal
    claimed = session.execute(
        update(Voucher).where(Voucher.id == voucher.id, Voucher.sold_at.is_not(None),
                              Voucher.redeemed_at.is_(None), Voucher.revoked_at.is_(None),
                              Voucher.broken_at.is_(None))
        .values(redeemed_at=now, redeemed_by_user_id=user.id,
                redeemed_terminal_id=terminal_id)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        # Another terminal won the race (or the expiry job, or a revocation): say which.
        session.refresh(voucher)
        refusal = _state_refusal(voucher, batch, currency, today(timezone, now))
        assert refusal is not None
        return refusal
    ledger.lock_user(session, user.id)
    _virtual, personal = ledger.user_accounts(session, user.id, currency)
    liability = ledger.get_account(session, AccountKind.VOUCHER_LIABILITY, currency)
    transaction = ledger.post(session, LedgerTransaction(
        kind="voucher_redemption", user_id=user.id, terminal_id=terminal_id, actor=actor,
        description=f"voucher {batch.public_id} #{voucher.serial}"),
        [(personal, batch.value), (liability, -batch.value)])
    session.execute(update(Voucher).where(Voucher.id == voucher.id)
                    .values(redeem_transaction_id=transaction.id)
                    .execution_options(synchronize_session=False))
    session.refresh(voucher)
    return Redemption(batch, voucher, transaction)


def _state_refusal(voucher: Voucher, batch: VoucherBatch, currency: str,
                   day: date) -> Refusal | None:
    """Why this (existing) voucher cannot be redeemed now, or None."""
    if voucher.redeemed_at is not None:
        return Refusal("voucher_redeemed", "this voucher was already redeemed",
                       {"redeemed_at": voucher.redeemed_at.isoformat()})
    if voucher.revoked_at is not None:
        return Refusal("voucher_revoked", "this voucher was revoked")
    if voucher.broken_at is not None or batch.expires_on < day:
        return Refusal("voucher_expired",
                       f"this voucher expired on {batch.expires_on.isoformat()}",
                       {"expires_on": batch.expires_on.isoformat()})
    if voucher.sold_at is None:
        return Refusal("voucher_not_sold", "this voucher card was never sold")
    if batch.currency != currency:
        return Refusal("voucher_currency",
                       f"this voucher is in {batch.currency}, the ledger in {currency}")
    return None
