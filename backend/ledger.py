"""The double-entry ledger: accounts, balanced transactions, holds, captures, refunds.

Every money movement is a ``LedgerTransaction`` whose entries sum to zero. The caller
runs these functions inside ``Database.write()``; each function that touches a user's
money first calls :func:`lock_user`, which is the serialisation point that makes two
terminals charging the same user at once unable to overspend (row lock on PostgreSQL,
the database write lock taken by ``BEGIN IMMEDIATE`` on SQLite).

Entries are written in one fixed order (users' accounts, then shared accounts, each by
id) so that concurrent transactions take account row locks in the same order and cannot
deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import Session, aliased

from backend.audit import record
from backend.models import (
    Account,
    AccountKind,
    BillingCode,
    Hold,
    LedgerEntry,
    LedgerTransaction,
    TopUp,
    User,
    Voucher,
    VoucherBatch,
    utcnow,
)
from backend.money import MAX_BALANCE, Money, fmt

ZERO = Decimal("0.00")
ConsumptionOrder = Literal["virtual_first", "personal_first"]
Payer = Literal["user", "code"]


class LedgerError(Exception):
    """A refused money movement; ``code`` is the API's stable problem code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Balance:
    currency: str
    virtual_credit: Decimal
    personal_credit: Decimal
    held: Decimal
    overdraft_limit: Decimal

    @property
    def available(self) -> Decimal:
        return self.virtual_credit + self.personal_credit + self.overdraft_limit - self.held

    def as_json(self) -> dict[str, str]:
        return {
            "currency": self.currency,
            "virtual_credit": fmt(self.virtual_credit),
            "personal_credit": fmt(self.personal_credit),
            "held": fmt(self.held),
            "available": fmt(self.available),
            "overdraft_limit": fmt(self.overdraft_limit),
        }


def _total(raw: Decimal | None) -> Decimal:
    """A SUM over a Money column: NULL when there are no rows."""
    return ZERO if raw is None else raw


def account_key(kind: str, currency: str, user_id: int | None = None,
                billing_code_id: int | None = None) -> str:
    owner = user_id if user_id is not None else billing_code_id
    return f"{kind}:{owner}:{currency}" if owner is not None else f"{kind}:{currency}"


def get_account(session: Session, kind: str, currency: str, *, user_id: int | None = None,
                billing_code_id: int | None = None) -> Account:
    """The account, created on first use (callers hold the owner's lock or run at setup)."""
    key = account_key(kind, currency, user_id, billing_code_id)
    account = session.scalar(select(Account).where(Account.key == key))
    if account is None:
        account = Account(key=key, kind=kind, currency=currency, user_id=user_id,
                          billing_code_id=billing_code_id, balance=ZERO)
        session.add(account)
        session.flush()
    return account


def ensure_system_accounts(session: Session, currency: str) -> None:
    for kind in AccountKind.SYSTEM:
        get_account(session, kind, currency)


_LOCKED = "printkiosk_locked_users"


def lock_user(session: Session, user_id: int) -> User:
    """Lock the user's row for the rest of the transaction (SQLite: see db.py).

    A second call in the same transaction costs no query: the lock is already held.
    (``Database.write`` opens one session per transaction, so ``session.info`` is
    per transaction.)
    """
    locked: set[int] = session.info.setdefault(_LOCKED, set())
    if user_id in locked:
        cached = session.get(User, user_id)
        assert cached is not None
        return cached
    user = session.scalar(
        select(User).where(User.id == user_id).with_for_update().execution_options(
            populate_existing=True)
    )
    if user is None:
        raise LedgerError("user_unknown", f"no user with id {user_id}")
    locked.add(user_id)
    return user


def post(session: Session, transaction: LedgerTransaction,
         movements: list[tuple[Account, Decimal]]) -> LedgerTransaction:
    """Write a balanced transaction and update the cached balances, atomically."""
    movements = [(account, amount) for account, amount in movements if amount != 0]
    total = sum((amount for _account, amount in movements), ZERO)
    if total != 0:
        raise ValueError(f"unbalanced transaction: entries sum to {total}")
    if not movements:
        raise ValueError("a transaction needs at least one non-zero entry")
    session.add(transaction)
    session.flush()
    # Users' accounts first, shared accounts (revenue, cash drawer) last: a shared row's
    # lock is then held only for the end of the transaction, and the order is the same
    # in every transaction, so two of them never wait on each other in a cycle.
    for account, amount in sorted(movements, key=lambda pair: (pair[0].user_id is None,
                                                               pair[0].id)):
        session.add(LedgerEntry(transaction_id=transaction.id, account_id=account.id,
                                amount=amount))
        # An atomic increment, not read-modify-write: safe while other users' transactions
        # update the same system account (revenue) concurrently. The bound is in the same
        # statement, so it holds under that concurrency too: no balance (and so no SUM of
        # an account's entries) can leave +-MAX_BALANCE, far inside a 64-bit integer (on
        # SQLite an overflowing integer silently turned into a float).
        changed = session.execute(
            update(Account).where(Account.id == account.id,
                                  Account.balance + amount <= literal(MAX_BALANCE, Money()),
                                  Account.balance + amount >= literal(-MAX_BALANCE, Money()))
            .values(balance=Account.balance + amount)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise LedgerError(
                "balance_limit",
                f"account {account.key} would pass the limit of +-{fmt(MAX_BALANCE)} "
                f"with {fmt(amount)} more; nothing was posted")
    session.flush()
    return transaction


def user_accounts(session: Session, user_id: int, currency: str) -> tuple[Account, Account]:
    """(virtual, personal) with their cached balances freshly read from the database.

    Reading the cache is exact: it is only ever changed by :func:`post`, in the same
    transaction as the entries, under the user's lock, and ``check_invariants`` proves
    it equal to the sum of entries. Summing the entries instead would grow with history.
    """
    keys = {account_key(kind, currency, user_id): kind
            for kind in (AccountKind.USER_VIRTUAL, AccountKind.USER_PERSONAL)}
    found = {account.kind: account for account in session.scalars(
        select(Account).where(Account.key.in_(list(keys)))
        .execution_options(populate_existing=True))}
    virtual = found.get(AccountKind.USER_VIRTUAL) or get_account(
        session, AccountKind.USER_VIRTUAL, currency, user_id=user_id)
    personal = found.get(AccountKind.USER_PERSONAL) or get_account(
        session, AccountKind.USER_PERSONAL, currency, user_id=user_id)
    return virtual, personal


def held_amount(session: Session, user_id: int) -> Decimal:
    """What the user's open holds block; a hold a billing code pays blocks none of it."""
    raw = session.scalar(
        select(func.sum(Hold.amount)).where(Hold.user_id == user_id, Hold.status == "open",
                                            Hold.payer == "user")
    )
    return _total(raw)


def client_of(session: Session, billing_code_id: int) -> BillingCode:
    """The client a code belongs to (a client is its own): whose receivable is charged."""
    code = session.get(BillingCode, billing_code_id)
    if code is None:
        raise LedgerError("billing_code_unknown", f"no billing code with id {billing_code_id}")
    if code.parent_id is None:
        return code
    client = session.get(BillingCode, code.parent_id)
    assert client is not None  # a foreign key
    return client


def receivable(session: Session, billing_code_id: int, currency: str) -> Account:
    """The receivable of the code's client: one account per client, so that a client's
    statement is the entries of one account (each entry's transaction names the project)."""
    return get_account(session, AccountKind.BILLING_CODE_RECEIVABLE, currency,
                       billing_code_id=client_of(session, billing_code_id).id)


def balance(session: Session, user: User, currency: str) -> Balance:
    virtual, personal = user_accounts(session, user.id, currency)
    return Balance(
        currency=currency,
        virtual_credit=virtual.balance,
        personal_credit=personal.balance,
        held=held_amount(session, user.id),
        overdraft_limit=user.overdraft_limit,
    )


def credit(session: Session, user: User, currency: str, *, kind: str, amount: Decimal,
           source_kind: str, description: str, actor: str | None = None,
           reason: str | None = None, to_virtual: bool = False) -> LedgerTransaction:
    """Money in for a user: from cash, a voucher, the gateway, or quota funding."""
    if amount <= 0:
        raise LedgerError("amount_invalid", "a credit must be positive")
    lock_user(session, user.id)
    virtual, personal = user_accounts(session, user.id, currency)
    target = virtual if to_virtual else personal
    source = get_account(session, source_kind, currency)
    return post(session, LedgerTransaction(kind=kind, description=description, actor=actor,
                                           reason=reason, user_id=user.id),
                [(target, amount), (source, -amount)])


def authorise(session: Session, user: User, terminal_id: str, currency: str, amount: Decimal,
              description: str, job_ref: str | None, billing_code_id: int | None = None,
              payer: Payer = "user") -> Hold:
    """Hold the estimate if the user can afford it (credit + overdraft - open holds).

    A hold of 0.00 (a free job) is never refused for funds: it costs nothing, even to a
    user whose available credit went below zero. Neither is a hold that a billing code
    pays (``payer="code"``): the client is invoiced, the user's credit is not involved."""
    if payer == "code" and billing_code_id is None:
        raise ValueError("a hold paid by a billing code needs the code")
    locked = lock_user(session, user.id)
    if locked.status != "active":
        raise LedgerError("user_disabled", f"user {locked.username} is disabled")
    current = balance(session, locked, currency)
    if payer == "user" and amount > 0 and amount > current.available:
        raise LedgerError(
            "insufficient_funds",
            f"{fmt(amount)} asked, {fmt(current.available)} available",
        )
    hold = Hold(user_id=locked.id, terminal_id=terminal_id, amount=amount,
                description=description, job_ref=job_ref, status="open",
                billing_code_id=billing_code_id, payer=payer)
    session.add(hold)
    session.flush()
    return hold


def _open_hold(session: Session, hold_id: str, terminal_id: str) -> tuple[Hold, User]:
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise LedgerError("hold_unknown", f"no hold {hold_id}")
    if hold.terminal_id != terminal_id:
        raise LedgerError("hold_other_terminal", f"hold {hold_id} belongs to another terminal")
    user = lock_user(session, hold.user_id)
    session.refresh(hold)
    if hold.status != "open":
        raise LedgerError("hold_settled", f"hold {hold_id} is already {hold.status}")
    return hold, user


def split_charge(amount: Decimal, virtual: Decimal, personal: Decimal,
                 order: ConsumptionOrder) -> tuple[Decimal, Decimal]:
    """(from virtual, from personal). Virtual credit never goes below zero; whatever the
    credit does not cover comes from personal credit, into the overdraft."""
    available = {"virtual": max(virtual, ZERO), "personal": max(personal, ZERO)}
    taken = {"virtual": ZERO, "personal": ZERO}
    rest = amount
    sources = ("virtual", "personal") if order == "virtual_first" else ("personal", "virtual")
    for source in sources:
        part = min(rest, available[source])
        taken[source] += part
        rest -= part
    taken["personal"] += rest
    return taken["virtual"], taken["personal"]


def capture(session: Session, hold_id: str, terminal_id: str, currency: str, amount: Decimal,
            order: ConsumptionOrder, details: dict[str, object] | None = None,
            sides: tuple[int, int] | None = None) -> LedgerTransaction | None:
    """Charge the real amount (at most the hold) and release the rest of the hold.

    ``sides`` (mono, colour) printed, when known, counts towards the user's period volume.
    """
    hold, user = _open_hold(session, hold_id, terminal_id)
    if sides is not None:
        hold.mono_sides, hold.colour_sides = sides
    if amount > hold.amount:
        raise LedgerError(
            "capture_exceeds_hold",
            f"capture {fmt(amount)} is more than the hold {fmt(hold.amount)}",
        )
    hold.status = "captured"
    hold.captured_amount = amount
    hold.settled_at = utcnow()
    hold.details = details
    if amount == 0:
        session.flush()
        return None
    revenue = get_account(session, AccountKind.REVENUE, currency)
    movements: list[tuple[Account, Decimal]]
    if hold.payer == "code":
        assert hold.billing_code_id is not None  # authorise refuses a code hold without one
        movements = [(receivable(session, hold.billing_code_id, currency), -amount)]
    else:
        virtual, personal = user_accounts(session, user.id, currency)
        from_virtual, from_personal = split_charge(
            amount, virtual.balance, personal.balance, order,
        )
        movements = [(virtual, -from_virtual), (personal, -from_personal)]
    return post(
        session,
        LedgerTransaction(kind="charge", description=hold.description, user_id=user.id,
                          terminal_id=terminal_id, hold_id=hold.id,
                          billing_code_id=hold.billing_code_id),
        [*movements, (revenue, amount)],
    )


def void(session: Session, hold_id: str, terminal_id: str) -> Hold:
    hold, _user = _open_hold(session, hold_id, terminal_id)
    hold.status = "voided"
    hold.captured_amount = ZERO
    hold.settled_at = utcnow()
    session.flush()
    return hold


def refunded_so_far(session: Session, charge_id: int) -> Decimal:
    raw = session.scalar(
        select(func.sum(LedgerEntry.amount))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(LedgerTransaction.refund_of_id == charge_id, Account.kind == AccountKind.REVENUE)
    )
    return -_total(raw)


def refund(session: Session, charge: LedgerTransaction, amount: Decimal | None, reason: str,
           *, terminal_id: str | None = None, actor: str | None = None) -> LedgerTransaction:
    """Give back all or part of a charge, to the accounts it was taken from.

    Personal credit (the user's own money) is returned first, then virtual credit; the
    total of all refunds of a charge never exceeds the charge.
    """
    if charge.kind != "charge" or charge.user_id is None:
        raise LedgerError("not_refundable", f"transaction {charge.id} is not a charge")
    lock_user(session, charge.user_id)
    charged = {entry.account_id: -entry.amount for entry in charge.entries if entry.amount < 0}
    total_charged = sum(charged.values(), ZERO)
    remaining = total_charged - refunded_so_far(session, charge.id)
    amount = remaining if amount is None else amount
    if amount <= 0 or amount > remaining:
        raise LedgerError(
            "refund_exceeds_charge",
            f"refund {fmt(amount)} asked, {fmt(remaining)} of {fmt(total_charged)} refundable",
        )
    accounts = {acc.id: acc for acc in session.scalars(
        select(Account).where(Account.id.in_(list(charged))))}
    ordered = sorted(accounts.values(), key=lambda acc: acc.kind != AccountKind.USER_PERSONAL)
    movements: list[tuple[Account, Decimal]] = []
    rest = amount
    for account in ordered:
        part = min(rest, charged[account.id])
        movements.append((account, part))
        rest -= part
    revenue = get_account(session, AccountKind.REVENUE, accounts[ordered[0].id].currency)
    movements.append((revenue, -amount))
    return post(
        session,
        LedgerTransaction(kind="refund", description=f"refund of {charge.description}",
                          reason=reason, user_id=charge.user_id, terminal_id=terminal_id,
                          refund_of_id=charge.id, actor=actor, hold_id=charge.hold_id),
        movements,
    )


def adjust(session: Session, user: User, currency: str, *, account_kind: str, amount: Decimal,
           reason: str, actor: str, origin: str | None = None) -> LedgerTransaction:
    """A manual correction by an administrator, with its reason (never zero, never silent).
    ``origin``: where it came from, for the audit row (a page's ``web:<address>``).

    Virtual credit cannot be taken below zero: a user cannot hold negative quota.
    """
    if not reason.strip():
        raise LedgerError("reason_required", "an adjustment needs a reason")
    if account_kind not in (AccountKind.USER_VIRTUAL, AccountKind.USER_PERSONAL):
        raise LedgerError("account_invalid", f"cannot adjust a {account_kind} account")
    lock_user(session, user.id)
    virtual, personal = user_accounts(session, user.id, currency)
    target = virtual if account_kind == AccountKind.USER_VIRTUAL else personal
    if target is virtual and virtual.balance + amount < 0:
        raise LedgerError("virtual_credit_negative", "virtual credit cannot go below zero")
    counterpart = get_account(session, AccountKind.ADJUSTMENTS, currency)
    record(session, actor, "ledger.adjust", user.username,
           {"account": account_kind, "amount": fmt(amount), "reason": reason}, origin=origin)
    return post(
        session,
        LedgerTransaction(kind="adjustment", description="manual adjustment", reason=reason,
                          user_id=user.id, actor=actor),
        [(target, amount), (counterpart, -amount)],
    )


@dataclass(frozen=True)
class InvariantReport:
    unbalanced_transactions: list[int]
    cache_mismatches: list[str]
    # Charges that took money from the wrong payer: a user-paid hold's charge must debit
    # only that user's credit, a code-paid one only the receivable of the code's client.
    misdirected_charges: list[str] = field(default_factory=list)
    # Per currency: the voucher liability must be the value of the vouchers still
    # redeemable (sold, not redeemed, revoked or expired), no more and no less.
    voucher_liability_mismatches: list[str] = field(default_factory=list)
    # Per currency: payment_clearing is what the credited top-ups brought in net of fees
    # and refunds, payment_fees the fees they reported.
    top_up_mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.unbalanced_transactions or self.cache_mismatches
                    or self.misdirected_charges or self.voucher_liability_mismatches
                    or self.top_up_mismatches)


def _misdirected_charges(session: Session) -> list[str]:
    client = aliased(BillingCode)
    rows = session.execute(
        select(LedgerTransaction.id, Hold.payer, Hold.user_id,
               func.coalesce(client.parent_id, client.id), Account.kind, Account.user_id,
               Account.billing_code_id)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == LedgerEntry.account_id)
        .join(Hold, Hold.id == LedgerTransaction.hold_id)
        .outerjoin(client, client.id == Hold.billing_code_id)
        .where(LedgerTransaction.kind == "charge", LedgerEntry.amount < 0)
        .order_by(LedgerTransaction.id)
    ).tuples()
    wrong: list[str] = []
    for charge_id, payer, user_id, client_id, kind, owner_user, owner_code in rows:
        if payer == "code":
            right = (kind == AccountKind.BILLING_CODE_RECEIVABLE and owner_code == client_id
                     and client_id is not None)
        else:
            right = (kind in (AccountKind.USER_VIRTUAL, AccountKind.USER_PERSONAL)
                     and owner_user == user_id)
        if not right:
            wrong.append(f"charge {charge_id} (payer {payer}) debits a {kind} account")
    return wrong


def _voucher_liability_mismatches(session: Session) -> list[str]:
    outstanding = dict(session.execute(
        select(VoucherBatch.currency, func.sum(VoucherBatch.value))
        .join(Voucher, Voucher.batch_id == VoucherBatch.id)
        .where(Voucher.sold_at.is_not(None), Voucher.redeemed_at.is_(None),
               Voucher.revoked_at.is_(None), Voucher.broken_at.is_(None))
        .group_by(VoucherBatch.currency)).tuples().all())
    balances = dict(session.execute(
        select(Account.currency, Account.balance)
        .where(Account.kind == AccountKind.VOUCHER_LIABILITY)).tuples().all())
    return [f"voucher_liability:{currency}: balance {fmt(balances.get(currency, ZERO))}, "
            f"redeemable vouchers {fmt(_total(outstanding.get(currency)))}"
            for currency in sorted(set(outstanding) | set(balances))
            if balances.get(currency, ZERO) != _total(outstanding.get(currency))]


def _top_up_mismatches(session: Session) -> list[str]:
    expected: dict[tuple[str, str], Decimal] = {}
    for currency, paid, fee, refunded in session.execute(
            select(TopUp.currency, TopUp.paid_amount, TopUp.fee, TopUp.refunded_amount)
            .where(TopUp.credit_transaction_id.is_not(None))).tuples():
        assert paid is not None  # credited => paid
        clearing = (AccountKind.PAYMENT_CLEARING, currency)
        fees = (AccountKind.PAYMENT_FEES, currency)
        expected[clearing] = expected.get(clearing, ZERO) - (paid - (fee or ZERO) - refunded)
        expected[fees] = expected.get(fees, ZERO) - (fee or ZERO)
    balances = {(kind, currency): amount for kind, currency, amount in session.execute(
        select(Account.kind, Account.currency, Account.balance)
        .where(Account.kind.in_([AccountKind.PAYMENT_CLEARING, AccountKind.PAYMENT_FEES]))
    ).tuples()}
    return [f"{kind}:{currency}: balance {fmt(balances.get((kind, currency), ZERO))}, "
            f"top-ups {fmt(expected.get((kind, currency), ZERO))}"
            for kind, currency in sorted(set(expected) | set(balances))
            if balances.get((kind, currency), ZERO) != expected.get((kind, currency), ZERO)]


def check_invariants(session: Session) -> InvariantReport:
    """Entries of each transaction sum to zero; each cached balance equals its entries
    (user credit, receivables and shared accounts alike); each charge debits its payer;
    the voucher liability is what the vouchers still redeemable are worth; the payment
    clearing and fee accounts are what the credited top-ups say."""
    unbalanced = list(session.scalars(
        select(LedgerEntry.transaction_id).group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.amount) != 0)
    ))
    sums = dict(session.execute(
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.account_id)
    ).tuples().all())
    mismatches = [
        f"{account.key}: cached {account.balance}, entries {_total(sums.get(account.id))}"
        for account in session.scalars(select(Account))
        if account.balance != _total(sums.get(account.id))
    ]
    return InvariantReport(unbalanced, mismatches, _misdirected_charges(session),
                           _voucher_liability_mismatches(session), _top_up_mismatches(session))
