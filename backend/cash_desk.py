"""The cash desk's money operations: cash in, cash out, job refunds, voucher sales.

Each operation is one :class:`DeskOperation` (its id is the receipt number) written in
the SAME transaction as its ledger transaction and its audit entry, under the form's
hidden ``operation`` id, which is UNIQUE: the row is inserted first, so a second submit
of the same form waits for the first (PostgreSQL) or for the write lock (SQLite), then
fails on the constraint and is answered with the first one's receipt (:func:`perform`).

Every operation needs the clerk's open drawer (backend.cash_desk_drawer): the cash that
moves is counted to it at the end of the day. Accounts (docs/cash-desk.md): cash and
cheques come from/go to ``cash_drawer`` (the drawer holds both; the drawer's page
shows cheques apart), the card terminal from ``card_terminal`` (what the acquirer will
pay out); ``payment_clearing`` is not used, it is reconciled against online top-ups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import ledger, vouchers
from backend.audit import record
from backend.cash_desk_drawer import open_drawer_of
from backend.db import Database
from backend.ledger import LedgerError
from backend.models import (
    Account,
    AccountKind,
    DeskOperation,
    LedgerEntry,
    LedgerTransaction,
    User,
    Voucher,
)
from backend.money import fmt, parse_typed_amount
from backend.voucher_admin import parse_serials

Method = Literal["cash", "card_terminal", "cheque"]
METHODS: dict[str, str] = {"cash": AccountKind.CASH_DRAWER,
                           "cheque": AccountKind.CASH_DRAWER,
                           "card_terminal": AccountKind.CARD_TERMINAL}
# The most one desk operation may move: a sane bound for a typing slip (10 000 for 100).
MAX_DESK_AMOUNT = Decimal("10000.00")
MAX_TEXT = 500


class DeskError(Exception):
    """A refused desk operation: ``field`` is the form field it is about (or None),
    ``code`` a stable key, ``detail`` the English reason."""

    def __init__(self, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.field = field


def desk_amount(raw: str, field: str = "amount") -> Decimal:
    """A form amount: > 0, at most 2 decimals, at most :data:`MAX_DESK_AMOUNT`."""
    try:
        amount = parse_typed_amount(raw, allow_zero=False)
    except ValueError as exc:
        raise DeskError("amount_invalid", str(exc), field) from exc
    if amount > MAX_DESK_AMOUNT:
        raise DeskError("amount_too_large",
                        f"{fmt(amount)} is more than the desk's maximum of "
                        f"{fmt(MAX_DESK_AMOUNT)}", field)
    return amount


def _text(raw: str | None, field: str, *, required: bool) -> str | None:
    value = (raw or "").strip()
    if required and not value:
        raise DeskError("reason_required", "a reason is required", field)
    if len(value) > MAX_TEXT:
        raise DeskError("text_too_long", f"at most {MAX_TEXT} characters", field)
    return value or None


def _operation_id(raw: str) -> str:
    value = raw.strip().lower()
    if not (8 <= len(value) <= 32 and all(c in "0123456789abcdef" for c in value)):
        raise DeskError("operation_invalid", "the form's operation id is missing or "
                        "malformed: reload the page")
    return value


@dataclass(frozen=True)
class Clerk:
    """Who works at the desk, as the audit records it."""

    user_id: int
    username: str
    origin: str | None = None

    @property
    def actor(self) -> str:
        return f"staff:{self.username}"


@dataclass(frozen=True)
class Receipt:
    """What an operation left: its number and whether this call posted it (False: a
    replay of an operation already done, answered with the same receipt)."""

    number: int
    posted: bool


Step = Callable[[Session, DeskOperation], LedgerTransaction]


def perform(db: Database, clerk: Clerk, currency: str, *, operation: str, kind: str,
            method: str, amount: Decimal, user_id: int | None, comment: str | None,
            step: Step) -> Receipt:
    """Insert the operation row, run ``step`` (the ledger posting) and record the audit,
    all in one transaction; a replayed ``operation`` gives the first receipt."""
    operation = _operation_id(operation)
    done = _existing(db, operation)
    if done is not None:
        return Receipt(done, posted=False)
    try:
        with db.write() as session:
            drawer = open_drawer_of(session, clerk.user_id)
            if drawer is None:
                raise DeskError("drawer_closed", "open your drawer first (Drawer page)")
            row = DeskOperation(operation=operation, kind=kind, method=method,
                                amount=amount, currency=currency, user_id=user_id,
                                drawer_id=drawer.id, clerk=clerk.username, comment=comment)
            session.add(row)
            session.flush()  # the UNIQUE operation: a concurrent twin waits or fails here
            transaction = step(session, row)
            row.transaction_id = transaction.id
            record(session, clerk.actor, f"desk.{kind}", str(row.id), {
                "amount": fmt(amount), "method": method, "user_id": user_id,
                "transaction_id": transaction.id, "comment": comment},
                origin=clerk.origin)
            number = row.id
    except IntegrityError:
        done = _existing(db, operation)
        if done is None:
            raise
        return Receipt(done, posted=False)
    except LedgerError as exc:
        raise DeskError(exc.code, exc.detail, "amount") from exc
    return Receipt(number, posted=True)


def _existing(db: Database, operation: str) -> int | None:
    with db.read() as session:
        found: int | None = session.scalar(
            select(DeskOperation.id).where(DeskOperation.operation == operation))
        return found


def _user(session: Session, user_id: int) -> User:
    user = ledger.lock_user(session, user_id)
    return user


def cash_in(db: Database, clerk: Clerk, currency: str, *, operation: str, user_id: int,
            amount: str, method: str, comment: str = "") -> Receipt:
    """Personal credit for money the clerk took (cash, card terminal or cheque)."""
    if method not in METHODS:
        raise DeskError("method_invalid", f"{method!r}: use cash, card_terminal or cheque",
                        "method")
    value = desk_amount(amount)
    note = _text(comment, "comment", required=False)

    def step(session: Session, row: DeskOperation) -> LedgerTransaction:
        user = _user(session, user_id)
        return ledger.credit(session, user, currency, kind="desk_cash_in", amount=value,
                             source_kind=METHODS[method],
                             description=f"cash desk: paid in ({method}), receipt {row.id}",
                             actor=clerk.actor, reason=note)

    return perform(db, clerk, currency, operation=operation, kind="cash_in", method=method,
                   amount=value, user_id=user_id, comment=note, step=step)


def refundable_credit(balance: ledger.Balance) -> Decimal:
    """What may be paid out: personal credit only, and never what open holds block
    (after the payout, virtual + personal credit still covers the holds)."""
    free = balance.virtual_credit + balance.personal_credit - balance.held
    return max(ledger.ZERO, min(balance.personal_credit, free))


def cash_out(db: Database, clerk: Clerk, currency: str, *, operation: str, user_id: int,
             amount: str, reason: str) -> Receipt:
    """Personal credit paid back in cash from the drawer."""
    value = desk_amount(amount)
    why = _text(reason, "reason", required=True)

    def step(session: Session, row: DeskOperation) -> LedgerTransaction:
        user = _user(session, user_id)
        allowed = refundable_credit(ledger.balance(session, user, currency))
        if value > allowed:
            raise DeskError("cash_out_exceeds_credit",
                            f"{fmt(value)} asked, at most {fmt(allowed)} of personal credit "
                            "can be paid out", "amount")
        _virtual, personal = ledger.user_accounts(session, user.id, currency)
        drawer = ledger.get_account(session, AccountKind.CASH_DRAWER, currency)
        return ledger.post(session, LedgerTransaction(
            kind="desk_cash_out", description=f"cash desk: paid out, receipt {row.id}",
            reason=why, user_id=user.id, actor=clerk.actor),
            [(personal, -value), (drawer, value)])

    return perform(db, clerk, currency, operation=operation, kind="cash_out", method="cash",
                   amount=value, user_id=user_id, comment=why, step=step)


def refund_job(db: Database, clerk: Clerk, currency: str, *, operation: str, user_id: int,
               charge_id: int, amount: str, reason: str) -> Receipt:
    """All (``amount`` blank) or part of a charged job back to the user's credit."""
    why = _text(reason, "reason", required=True)
    value = desk_amount(amount) if amount.strip() else None
    assert why is not None

    def step(session: Session, row: DeskOperation) -> LedgerTransaction:
        charge = session.get(LedgerTransaction, charge_id)
        if charge is None or charge.user_id != user_id or charge.kind != "charge":
            raise DeskError("charge_unknown", f"no charged job {charge_id} of this user",
                            "charge")
        before = ledger.refunded_so_far(session, charge.id)
        transaction = ledger.refund(session, charge, value, why, actor=clerk.actor)
        row.amount = ledger.refunded_so_far(session, charge.id) - before
        return transaction

    return perform(db, clerk, currency, operation=operation, kind="job_refund",
                   method="credit", amount=value or ledger.ZERO, user_id=user_id,
                   comment=why, step=step)


def sell_vouchers(db: Database, clerk: Clerk, currency: str, *, operation: str,
                  batch: str, serials: str, buyer: str = "") -> Receipt:
    """Vouchers of a batch sold for cash: all those in stock (``serials`` blank) or the
    given serials (``3-9,12``)."""
    who = _text(buyer, "buyer", required=False) or ""

    def step(session: Session, row: DeskOperation) -> LedgerTransaction:
        try:
            found = vouchers.find_batch(session, batch)
        except LedgerError as exc:
            raise DeskError(exc.code, exc.detail, "batch") from exc
        if serials.strip():
            try:
                chosen = parse_serials(serials, found.count)
            except ValueError as exc:
                raise DeskError("serials_invalid", str(exc).replace("--serials ", ""),
                                "serials") from exc
        else:
            chosen = None
        count = len(chosen) if chosen is not None else session.scalar(
            select(func.count()).select_from(Voucher).where(
                Voucher.batch_id == found.id, Voucher.sold_at.is_(None),
                Voucher.revoked_at.is_(None))) or 0
        try:
            sale = vouchers.sell(session, found.public_id, count, "cash", who, clerk.actor,
                                 serials=chosen, origin=clerk.origin)
        except LedgerError as exc:
            raise DeskError(exc.code, exc.detail, "serials") from exc
        row.amount = found.value * sale.count
        row.currency = found.currency
        return sale.transaction

    return perform(db, clerk, currency, operation=operation, kind="voucher_sale",
                   method="cash", amount=ledger.ZERO, user_id=None, comment=who or None,
                   step=step)


def refunded_of(session: Session, charge_ids: list[int]) -> dict[int, Decimal]:
    """What was already refunded of each charge (one query)."""
    if not charge_ids:
        return {}
    rows = session.execute(
        select(LedgerTransaction.refund_of_id, func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(LedgerTransaction.refund_of_id.in_(charge_ids),
               Account.kind == AccountKind.REVENUE)
        .group_by(LedgerTransaction.refund_of_id)).tuples()
    return {charge: -total for charge, total in rows if charge is not None}
