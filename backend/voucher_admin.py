"""The operator's side of vouchers: revocation, the expiry (breakage) job, statistics.

See ``backend.vouchers`` for the accounting and why each state change is one conditional
UPDATE. Expiry is run by the server's schedule (``[vouchers] expire_check_interval_s``)
and by ``printkiosk vouchers expire``, the same function: the UPDATE that sets
``broken_at`` claims the vouchers, so two processes never post one breakage twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from backend import ledger
from backend.audit import record
from backend.db import Database
from backend.ledger import ZERO, LedgerError
from backend.models import Account, AccountKind, LedgerTransaction, Voucher, VoucherBatch, utcnow
from backend.money import fmt
from backend.vouchers import (
    CHUNK,
    SOURCE_ACCOUNT,
    SoldVouchers,
    code_hash,
    find_batch,
    today,
)
from billing.voucher_codes import assess

_OPEN = (Voucher.redeemed_at.is_(None), Voucher.revoked_at.is_(None),
         Voucher.broken_at.is_(None))


def parse_serials(text: str, count: int) -> list[int]:
    """``3-9,12`` as [3, 4, ..., 9, 12]; each serial within 1..count."""
    serials: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"--serials {text!r}: {part.strip()!r} is not N or N-M")
        low, high = int(first), int(last or first)
        if not 1 <= low <= high <= count:
            raise ValueError(f"--serials {text!r}: {part.strip()!r} is outside 1-{count} "
                             "(or reversed)")
        serials.update(range(low, high + 1))
    return sorted(serials)


@dataclass(frozen=True)
class Revocation:
    batch: VoucherBatch
    unsold: int
    refunded: int
    forfeited: int
    amount: Decimal  # liability released


def _chunks(serials: Sequence[int] | None) -> list[Sequence[int] | None]:
    if serials is None:
        return [None]
    return [serials[start:start + CHUNK] for start in range(0, len(serials), CHUNK)]


def revoke(session: Session, public_id: str, *, serials: Sequence[int] | None,
           sold_vouchers: SoldVouchers | None, reason: str, actor: str,
           origin: str | None = None) -> Revocation:
    """Revoke the whole batch (``serials`` None) or some of its vouchers. Sold, still
    redeemable ones need ``sold_vouchers``: ``refund`` moves their liability back to where
    they were sold from, ``forfeit`` to revenue."""
    if not reason.strip():
        raise LedgerError("reason_required", "a revocation needs --reason")
    batch = find_batch(session, public_id, lock=True)
    sold_open = select(func.count()).select_from(Voucher).where(
        Voucher.batch_id == batch.id, Voucher.sold_at.is_not(None), *_OPEN)
    if serials is not None:
        sold_open = sold_open.where(Voucher.serial.in_(serials))
    if sold_vouchers is None and (session.scalar(sold_open) or 0) > 0:
        raise LedgerError(
            "voucher_sold_option_required",
            f"batch {batch.public_id}: {session.scalar(sold_open)} of these vouchers are "
            "sold and still redeemable: add --sold-vouchers refund (their value goes back "
            "to the cash drawer or receivable they were sold from) or forfeit (to revenue)")
    now = utcnow()
    sold_via: Counter[str | None] = Counter()
    for chunk in _chunks(serials):
        statement = update(Voucher).where(Voucher.batch_id == batch.id, *_OPEN)
        if chunk is not None:
            statement = statement.where(Voucher.serial.in_(chunk))
        sold_via.update(session.scalars(statement.values(revoked_at=now)
                                        .returning(Voucher.sold_via)
                                        .execution_options(synchronize_session=False)))
    unsold = sold_via.pop(None, 0)
    movements: list[tuple[Account, Decimal]] = []
    amount = ZERO
    for via, number in sorted(sold_via.items(), key=lambda item: str(item[0])):
        part = batch.value * number
        amount += part
        target = (SOURCE_ACCOUNT[via] if sold_vouchers == "refund" and via in SOURCE_ACCOUNT
                  else AccountKind.REVENUE)
        movements.append((ledger.get_account(session, target, batch.currency), part))
    if amount:
        liability = ledger.get_account(session, AccountKind.VOUCHER_LIABILITY, batch.currency)
        ledger.post(session, LedgerTransaction(
            kind="voucher_revocation", actor=actor, reason=reason,
            description=f"revocation of {sum(sold_via.values())} sold voucher(s) "
                        f"{batch.public_id} ({sold_vouchers})"),
            [(liability, -amount), *movements])
    if serials is None:
        batch.revoked_at = now
        batch.revoked_by = actor
    sold = sum(sold_via.values())
    record(session, actor, "voucher.revoke", batch.public_id, {
        "serials": "all" if serials is None else _spans(serials), "reason": reason,
        "unsold": unsold, "sold": sold, "sold_vouchers": sold_vouchers,
        "amount": fmt(amount)}, origin=origin)
    session.flush()
    return Revocation(batch, unsold, sold if sold_vouchers == "refund" else 0,
                      sold if sold_vouchers == "forfeit" else 0, amount)


def _spans(serials: Sequence[int]) -> str:
    """[3, 4, 5, 9] as ``3-5,9`` for the audit log."""
    spans: list[str] = []
    start = previous = serials[0]
    for serial in [*serials[1:], None]:
        if serial is not None and serial == previous + 1:
            previous = serial
            continue
        spans.append(str(start) if start == previous else f"{start}-{previous}")
        if serial is not None:
            start = previous = serial
    return ",".join(spans)


@dataclass(frozen=True)
class Breakage:
    batch: str
    count: int
    amount: Decimal
    currency: str


def expire_batch(session: Session, batch_id: int, now: datetime, actor: str) -> Breakage | None:
    """Post the breakage of the batch's sold, still redeemable vouchers (it is past its
    expiry day): the UPDATE claims them, so a second run finds none."""
    batch = session.get(VoucherBatch, batch_id)
    assert batch is not None
    claimed = session.execute(
        update(Voucher).where(Voucher.batch_id == batch.id, Voucher.sold_at.is_not(None),
                              *_OPEN)
        .values(broken_at=now).execution_options(synchronize_session=False))
    count = int(claimed.rowcount)  # type: ignore[attr-defined]
    if not count:
        return None
    amount = batch.value * count
    liability = ledger.get_account(session, AccountKind.VOUCHER_LIABILITY, batch.currency)
    revenue = ledger.get_account(session, AccountKind.REVENUE, batch.currency)
    ledger.post(session, LedgerTransaction(
        kind="voucher_breakage", actor=actor,
        description=f"breakage: {count} voucher(s) {batch.public_id} expired on "
                    f"{batch.expires_on.isoformat()}"),
        [(liability, -amount), (revenue, amount)])
    record(session, actor, "voucher.expire", batch.public_id,
           {"count": count, "amount": fmt(amount), "expires_on": batch.expires_on.isoformat()})
    return Breakage(batch.public_id, count, amount, batch.currency)


def expire_vouchers(db: Database, actor: str, timezone: str | None = None,
                    now: datetime | None = None) -> list[Breakage]:
    """One run, the scheduler's and the CLI's: each expired batch in its own transaction."""
    now = now or utcnow()
    day = today(timezone, now)
    with db.read() as session:
        due = list(session.scalars(
            select(VoucherBatch.id).where(VoucherBatch.expires_on < day)
            .where(select(Voucher.id).where(Voucher.batch_id == VoucherBatch.id,
                                            Voucher.sold_at.is_not(None), *_OPEN).exists())
            .order_by(VoucherBatch.id)))
    done: list[Breakage] = []
    for batch_id in due:
        with db.write() as session:
            breakage = expire_batch(session, batch_id, now, actor)
        if breakage is not None:
            done.append(breakage)
    return done


@dataclass(frozen=True)
class BatchStats:
    batch: VoucherBatch
    issued: int
    sold: int
    redeemed: int
    revoked: int
    expired: int  # sold and broken (breakage posted), or in stock past the expiry day
    liability: Decimal  # value of the sold vouchers still redeemable
    in_stock: int  # neither sold nor revoked


def stats(session: Session, timezone: str | None = None,
          public_id: str | None = None) -> list[BatchStats]:
    day = today(timezone)
    query = (select(VoucherBatch, func.count(Voucher.id), func.count(Voucher.sold_at),
                    func.count(Voucher.redeemed_at), func.count(Voucher.revoked_at),
                    func.count(Voucher.broken_at),
                    func.sum(case((Voucher.sold_at.is_(None) & Voucher.revoked_at.is_(None),
                                   1), else_=0)),
                    func.sum(case((Voucher.sold_at.is_not(None)
                                   & Voucher.redeemed_at.is_(None)
                                   & Voucher.revoked_at.is_(None)
                                   & Voucher.broken_at.is_(None), 1), else_=0)))
             .join(Voucher, Voucher.batch_id == VoucherBatch.id)
             .group_by(VoucherBatch.id).order_by(VoucherBatch.created_at, VoucherBatch.id))
    if public_id is not None:
        query = query.where(VoucherBatch.id == find_batch(session, public_id).id)
    result = []
    for batch, issued, sold, redeemed, revoked, broken, stock, open_sold in session.execute(
            query).tuples():
        past = batch.expires_on < day
        result.append(BatchStats(
            batch, issued, sold, redeemed, revoked,
            broken + (int(stock or 0) if past else 0),
            batch.value * int(open_sold or 0), int(stock or 0)))
    return result


def redeemable_serials(session: Session, secret: bytes, batch: VoucherBatch,
                       codes: Sequence[str], timezone: str | None = None) -> dict[str, int]:
    """Of ``codes`` (as printed), those that are vouchers of ``batch`` still redeemable
    (sold or in stock; not redeemed, revoked or expired), each with its serial. Checked by
    hash: a file can claim anything."""
    if batch.expires_on < today(timezone):
        return {}
    hashes: dict[str, str] = {}
    for code in codes:
        assessed = assess(code)
        if assessed.status == "valid":
            hashes[code_hash(secret, assessed.body)] = code
    found: dict[str, int] = {}
    keys = list(hashes)
    for start in range(0, len(keys), CHUNK):
        for digest, serial in session.execute(
                select(Voucher.code_hash, Voucher.serial).where(
                    Voucher.batch_id == batch.id, Voucher.code_hash.in_(keys[start:start + CHUNK]),
                    *_OPEN)).tuples():
            found[hashes[digest]] = serial
    return found
