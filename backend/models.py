"""The database schema (SQLAlchemy 2 declarative models).

The ledger is append-only: ``LedgerTransaction`` and ``LedgerEntry`` rows are never
updated or deleted. ``Account.balance`` is a cache kept in the same database transaction
as the entries; balances are read from it, and ``ledger.check_invariants`` (run after
every backend test) proves it equals the sum of entries. A ``Hold`` is an
authorisation, not money movement: it reduces what the user may spend until it is
captured (which posts a transaction) or voided.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from backend.money import Money


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    return uuid.uuid4().hex


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class AccountKind:
    """The kinds of ledger account. Plain strings so the schema needs no enum migration."""

    USER_VIRTUAL = "user_virtual"  # quota / free credit granted by the organisation
    USER_PERSONAL = "user_personal"  # money the user paid in (cash, vouchers, gateway)
    VOUCHER_LIABILITY = "voucher_liability"
    CASH_DRAWER = "cash_drawer"
    PAYMENT_CLEARING = "payment_clearing"
    REVENUE = "revenue"
    # One per client (billing code without a parent), in its ``billing_code_id``: what the
    # client owes for the jobs charged to it and its projects (negative = owed to us).
    BILLING_CODE_RECEIVABLE = "billing_code_receivable"
    QUOTA_FUNDING = "quota_funding"  # where virtual credit comes from (refills, grants)
    ADJUSTMENTS = "adjustments"  # counterpart of manual corrections
    # What buyers invoiced for voucher cards owe (sold with payment "invoice").
    VOUCHER_RECEIVABLE = "voucher_receivable"
    # What payment gateways kept of top-ups (their fees, when they report them): an
    # expense, so negative like money the organisation paid out.
    PAYMENT_FEES = "payment_fees"
    # What the cash desk's card terminal took and its acquirer will pay out (issue 17);
    # not payment_clearing, which the invariants reconcile against online top-ups.
    CARD_TERMINAL = "card_terminal"

    SYSTEM = (
        VOUCHER_LIABILITY, CASH_DRAWER, PAYMENT_CLEARING, REVENUE, QUOTA_FUNDING, ADJUSTMENTS,
        VOUCHER_RECEIVABLE, PAYMENT_FEES, CARD_TERMINAL,
    )


class CostCentre(Base):
    __tablename__ = "cost_centres"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class UserGroup(Base):
    __tablename__ = "user_groups"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | disabled
    cost_centre_id: Mapped[int | None] = mapped_column(ForeignKey("cost_centres.id"))
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    overdraft_limit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The web sign-in password (staff pages and the user's own page), scrypt-hashed by
    # backend.web.passwords; None: no password sign-in for this account.
    password_hash: Mapped[str | None] = mapped_column(String(200))

    groups: Mapped[list[Group]] = relationship(secondary="user_groups")
    role_grants: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan")

    @property
    def roles(self) -> list[str]:
        """The account's roles, sorted (what ``user_json`` answers)."""
        return sorted(grant.role for grant in self.role_grants)


# What an account may do beyond printing. ``technician`` opens technician mode at a kiosk
# (issue 16); the staff roles sign in to the web pages: ``cashier`` the cash desk only,
# ``administrator`` everything, ``auditor`` reads everything (the audit log too) and
# changes nothing.
STAFF_ROLES = ("cashier", "administrator", "auditor")
ROLES = ("technician", *STAFF_ROLES)


class UserRole(Base):
    """A role granted to a user: one row per (user, role), so a grant is a fact that is
    there or not, and two grants of the same role cannot both exist. The CHECK keeps
    anything else out of the table, whoever writes it."""

    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(
        "role IN (" + ", ".join(f"'{role}'" for role in ROLES) + ")",
        name="ck_user_roles_role"),)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    @validates("role")
    def _known_role(self, _key: str, role: str) -> str:
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
        return role


class PinAttempt(Base):
    """Wrong PINs in a row for a username as typed, known or not (``backend.identify``):
    keyed by the name and not the user so that an unknown name locks like a real one,
    in a table so that every backend process on the database sees the same count."""

    __tablename__ = "pin_attempts"
    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Card(Base):
    __tablename__ = "cards"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    card_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Terminal(Base):
    __tablename__ = "terminals"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Which printer the kiosk stands beside: picks device and device-model price lists.
    device: Mapped[str | None] = mapped_column(String(200))
    device_model: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="new")  # new|connected|disconnected
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # What this kiosk may let a user spend with no backend session (offline), as it
    # reported at enrolment; never more than the site's ``sessions.offline_limit``, which
    # applies when it is NULL.
    offline_limit: Mapped[Decimal | None] = mapped_column(Money())
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class TerminalSession(Base):
    """A user identified at a terminal (card or PIN): the token user-scoped calls carry.

    Only the keyed hash of the token is stored. Bound to the terminal that opened it and
    to the user; it expires ``sessions.idle_timeout_s`` after ``last_used_at`` and ends
    for good (``ended_at``) when the terminal is revoked.
    """

    __tablename__ = "terminal_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class EnrolmentKey(Base):
    __tablename__ = "enrolment_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    terminal_id: Mapped[str | None] = mapped_column(ForeignKey("terminals.id"))
    # admin_site (0014): None for keys made before expiry existed (they never expire).
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    # "revenue:EUR", "user_virtual:42:EUR": unique, so two processes can never create twins
    # (a unique constraint over nullable columns would not stop them).
    key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    billing_code_id: Mapped[int | None] = mapped_column(ForeignKey("billing_codes.id"))
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # charge|refund|adjustment|refill|...
    description: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    terminal_id: Mapped[str | None] = mapped_column(ForeignKey("terminals.id"))
    hold_id: Mapped[str | None] = mapped_column(ForeignKey("holds.id"))
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    billing_code_id: Mapped[int | None] = mapped_column(ForeignKey("billing_codes.id"))
    actor: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    entries: Mapped[list[LedgerEntry]] = relationship(lazy="selectin")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # Positive: the account's balance goes up (credit to a user); negative: it goes down.
    amount: Mapped[Decimal] = mapped_column(Money())


class Hold(Base):
    __tablename__ = "holds"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    captured_amount: Mapped[Decimal | None] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|captured|voided
    description: Mapped[str] = mapped_column(Text, default="")
    job_ref: Mapped[str | None] = mapped_column(String(200))
    billing_code_id: Mapped[int | None] = mapped_column(ForeignKey("billing_codes.id"))
    # Who pays, fixed when the hold is taken: "user" (the user's credit; the hold lowers
    # what they may spend) or "code" (the receivable of the code's client; the user's
    # balance is untouched). Fixed here so a later change of the code's setting never
    # moves a charge between payers halfway through a release.
    payer: Mapped[str] = mapped_column(String(8), default="user", server_default="user")
    # Taken with no valid user session (the kiosk decided it offline, or the session
    # expired before the outbox drained): bounded by the terminal's offline limit.
    offline: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Sides really printed, from the capture: the period volume that tiers and included
    # pages of the price list depend on.
    mono_sides: Mapped[int | None] = mapped_column(Integer)
    colour_sides: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_holds_user_status", "user_id", "status"),)


class IdempotencyRecord(Base):
    """The first answer to a terminal write, replayed on retry with the same key."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("terminal_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    key: Mapped[str] = mapped_column(String(200))
    operation: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class BillingCode(Base):
    """Client -> project hierarchy (seed 000): a project has a client as parent."""

    __tablename__ = "billing_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("billing_codes.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # "user" | "code" | None (inherit from the client; a client without one: "user").
    payer: Mapped[str | None] = mapped_column(String(8))


class BillingCodeAssignment(Base):
    """Who may use a code: a user, a group or a cost centre (exactly one is set)."""

    __tablename__ = "billing_code_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    billing_code_id: Mapped[int] = mapped_column(ForeignKey("billing_codes.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    cost_centre_id: Mapped[int | None] = mapped_column(ForeignKey("cost_centres.id"))


class BillingCodeUse(Base):
    __tablename__ = "billing_code_uses"
    __table_args__ = (UniqueConstraint("user_id", "billing_code_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    billing_code_id: Mapped[int] = mapped_column(ForeignKey("billing_codes.id"))
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class RefillRun(Base):
    """One row per quota period refilled: the unique key makes the refill exactly-once."""

    __tablename__ = "refill_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(32), unique=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    users_refilled: Mapped[int] = mapped_column(Integer, default=0)


class QuotaRule(Base):
    """Virtual credit granted each period to a group, with a carry-over cap."""

    __tablename__ = "quota_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), unique=True)
    period: Mapped[str] = mapped_column(String(16), default="monthly")  # monthly|weekly
    amount: Mapped[Decimal] = mapped_column(Money())
    carry_over_cap: Mapped[Decimal] = mapped_column(Money())


class TerminalEvent(Base):
    __tablename__ = "terminal_events"
    __table_args__ = (UniqueConstraint("terminal_id", "idempotency_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # counters|supplies|alert|job_report
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # 200: a technician's report is ``technician:<username>@terminal:<id>`` (up to 153).
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Where the change came from: a web page's client address ("web:203.0.113.5"), a
    # terminal, the CLI; None for rows written before it was recorded.
    origin: Mapped[str | None] = mapped_column(String(100))


class JobAnalysis(Base):
    """A held job's document analysis, reported by the print server's spool agent.

    When kiosk and CUPS run on different hosts the kiosk cannot read the spool file; the
    agent beside CUPS analyses it and reports here, and the kiosk reads the figures by the
    job's IPP ``job-uuid`` (unique across servers and moves, unlike the job id). One row
    per job: pages are stored as counts per (colour class, paper size), which is what a
    price list needs, whatever the page count.
    """

    __tablename__ = "job_analyses"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_uuid: Mapped[str] = mapped_column(String(200), unique=True)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    queue: Mapped[str] = mapped_column(String(127))
    username: Mapped[str] = mapped_column(String(100))
    document_name: Mapped[str] = mapped_column(String(500))
    page_count: Mapped[int] = mapped_column(Integer)
    counts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Set when the file could not be analysed and the agent's fallback rule gave the pages.
    error: Mapped[str | None] = mapped_column(Text)
    analysed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class VoucherBatch(Base):
    """Vouchers created together: one value, currency, expiry and prefix.

    The plain codes are never stored in the clear. ``export_blob`` holds them encrypted
    (AES-GCM) under a key derived from the one-time export token shown at creation, whose
    keyed hash is ``export_token_hash``; the first export with the token deletes both.
    """

    __tablename__ = "voucher_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    prefix: Mapped[str] = mapped_column(String(6), default="")
    value: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    count: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date] = mapped_column(Date)  # the last day a voucher is redeemable
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    export_blob: Mapped[bytes | None] = mapped_column(LargeBinary)
    export_token_hash: Mapped[str | None] = mapped_column(String(64))


class Voucher(Base):
    """One card of a batch, by its serial (1..count); only the keyed hash of its code.

    States: issued (stock) -> sold -> redeemed | revoked | expired (``broken_at``: the
    breakage was posted). An unsold voucher may be revoked; it never expires into revenue
    since it was never paid for.
    """

    __tablename__ = "vouchers"
    __table_args__ = (UniqueConstraint("batch_id", "serial"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("voucher_batches.id"))
    serial: Mapped[int] = mapped_column(Integer)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sold_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # "cash" | "invoice": where the money came from (a refund on revocation goes back there)
    sold_via: Mapped[str | None] = mapped_column(String(8))
    sale_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id"))
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    redeemed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    redeemed_terminal_id: Mapped[str | None] = mapped_column(ForeignKey("terminals.id"))
    redeem_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    broken_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class VoucherFailure(Base):
    """A redemption of a well-formed code that matched no voucher: one guess. Kept in the
    database so that the limit holds across restarts and backend processes."""

    __tablename__ = "voucher_failures"
    __table_args__ = (Index("ix_voucher_failures_terminal_at", "terminal_id", "at"),
                      Index("ix_voucher_failures_user_at", "user_id", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    # None: typed on the user's own page (/me), which has no terminal (migration 0016).
    terminal_id: Mapped[str | None] = mapped_column(ForeignKey("terminals.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class VoucherLockout(Base):
    """A terminal or user locked out of redemption after too many guesses, from its first
    refusal until ``until``: what the operator's ``printkiosk vouchers lockouts`` lists."""

    __tablename__ = "voucher_lockouts"
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # "terminal" | "user"
    terminal_id: Mapped[str | None] = mapped_column(ForeignKey("terminals.id"))  # None: /me
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    failures: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    until: Mapped[datetime] = mapped_column(UtcDateTime())


class TopUp(Base):
    """A top-up the user asked for at a kiosk, paid on a gateway's page (see
    docs/payments.md): pending -> paid | expired | failed | cancelled | mismatch, and
    paid -> refunded. An expired, failed or cancelled top-up that is paid all the same is
    credited and flagged ``late``; a payment of another amount is not credited: the
    top-up becomes ``mismatch`` for the cash desk.

    The URL token is never stored: it is an HMAC of ``public_id`` under the server's
    secret (``backend.topups.url_token``), and ``token_hash`` finds the top-up from it.
    ``changed_at`` moves on every change of status: what the long-poll waiters watch.
    """

    __tablename__ = "top_ups"
    __table_args__ = (UniqueConstraint("terminal_id", "idempotency_key"),
                      Index("ix_top_ups_status_created", "status", "created_at"),
                      UniqueConstraint("gateway", "gateway_payment_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    terminal_id: Mapped[str | None] = mapped_column(ForeignKey("terminals.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    gateway: Mapped[str] = mapped_column(String(32))
    gateway_payment_id: Mapped[str | None] = mapped_column(String(255))
    pay_url: Mapped[str | None] = mapped_column(Text)  # None when it holds the token (demo)
    qr_payload: Mapped[str | None] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    short_code: Mapped[str] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    late: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Why the cash desk should look at it: "late", "amount_mismatch", "duplicate_payment".
    flag: Mapped[str | None] = mapped_column(String(32))
    paid_amount: Mapped[Decimal | None] = mapped_column(Money())
    fee: Mapped[Decimal | None] = mapped_column(Money())
    refunded_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    credit_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The reconciliation job's claim: one process asks the gateway about it per round.
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TopUpEvent(Base):
    """Every gateway event applied to a top-up, once: (gateway, event_id) is unique, so a
    replayed webhook finds its first arrival and changes nothing."""

    __tablename__ = "top_up_events"
    __table_args__ = (UniqueConstraint("gateway", "event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    top_up_id: Mapped[int] = mapped_column(ForeignKey("top_ups.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # succeeded | failed | refunded
    amount: Mapped[Decimal | None] = mapped_column(Money())
    outcome: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # webhook | demo_page | reconcile | cli
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class UnmatchedStatementLine(Base):
    """A credit on a bank statement that settled no top-up, for the cash desk
    (docs/payments-bank-transfer.md): no or an unknown reference, another amount than
    the top-up asked, or a top-up already paid. ``bank_reference`` (the bank's id of the
    line) is unique, so importing the same statement again lists nothing twice."""

    __tablename__ = "unmatched_statement_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    bank_reference: Mapped[str] = mapped_column(String(255), unique=True)
    reason: Mapped[str] = mapped_column(String(32))
    top_up_id: Mapped[int | None] = mapped_column(ForeignKey("top_ups.id"))
    booked_on: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(64), default="")
    remittance: Mapped[str] = mapped_column(Text, default="")
    payer: Mapped[str] = mapped_column(String(255), default="")
    file_name: Mapped[str] = mapped_column(String(255))
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Print3DJob(Base):
    """A G-code (or bgcode) file a user uploaded for a group of 3D printers, analysed and
    priced at upload (docs/print3d-backend.md).

    The file lives under ``[print3d] storage_dir`` named by this row's id
    (``<id>.gcode``, and ``<id>.bgcode`` for the original of a bgcode upload), never by
    the user's file name. Figures are decimal strings (grams, metres, mm are not money):
    ``ours``/``slicer`` keep both analyses in JSON; the columns are the figures the price
    uses. Status: ready -> printing (claimed under ``hold_id`` by ``terminal_id``) ->
    completed | cancelled | failed; printing -> ready when the print never started;
    ready -> deleted (the user or an operator cancelled it before printing).
    """

    __tablename__ = "print3d_jobs"
    __table_args__ = (Index("ix_print3d_jobs_user_status", "user_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    group_name: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))  # the user's file name, for display
    stored_name: Mapped[str] = mapped_column(String(64))  # the text G-code the printer gets
    original_name: Mapped[str | None] = mapped_column(String(64))  # a bgcode upload, kept
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(8))  # gcode | bgcode
    material: Mapped[str | None] = mapped_column(String(32))
    grams: Mapped[str] = mapped_column(String(32))
    metres: Mapped[str] = mapped_column(String(32))
    minutes: Mapped[int] = mapped_column(Integer)
    grams_source: Mapped[str] = mapped_column(String(8))
    time_source: Mapped[str] = mapped_column(String(8))
    diameter_mm: Mapped[str] = mapped_column(String(16))
    density_g_cm3: Mapped[str] = mapped_column(String(16))
    ours: Mapped[dict[str, Any]] = mapped_column(JSON)
    slicer: Mapped[dict[str, Any]] = mapped_column(JSON)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    price_list: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal] = mapped_column(Money())
    hold_amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="ready")
    hold_id: Mapped[str | None] = mapped_column(ForeignKey("holds.id"))
    terminal_id: Mapped[str | None] = mapped_column(ForeignKey("terminals.id"))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The settlement: what the kiosk saw, the policy applied, what was charged for.
    outcome: Mapped[str | None] = mapped_column(String(16))
    policy: Mapped[str | None] = mapped_column(String(16))
    charged_grams: Mapped[str | None] = mapped_column(String(32))
    charged_minutes: Mapped[int | None] = mapped_column(Integer)
    charged: Mapped[Decimal | None] = mapped_column(Money())
    printer_filament_mm: Mapped[str | None] = mapped_column(String(32))
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WebSession(Base):
    """A signed-in browser: staff pages (``area`` "staff") or the user's own page ("me").

    In the database, not in a signed cookie, so that signing out, disabling an account
    or an idle timeout ends it on every backend process at once. The cookie carries a
    random token; the row keeps only its keyed hash (``id``), so a copy of the database
    opens no session.
    """

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    area: Mapped[str] = mapped_column(String(8))  # staff | me
    origin: Mapped[str] = mapped_column(String(100))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WebLoginFailure(Base):
    """Wrong passwords in a row for a username as typed, known or not (like
    ``PinAttempt`` for the kiosk): an unknown name locks like a real one, and every
    backend process sees the same count."""

    __tablename__ = "web_login_failures"
    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# --- admin_people (issue 17): adjustments by operation id, uploaded imports, audit indexes


class AdminAdjustment(Base):
    """The operation id of an adjustment made from the console: UNIQUE, so a double
    click or a replayed form posts the adjustment once and finds the same transaction."""

    __tablename__ = "admin_adjustments"
    operation: Mapped[str] = mapped_column(String(32), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ImportUpload(Base):
    """A CSV uploaded to the console, kept between its dry run and its confirmation:
    the applied file is byte for byte the file whose dry run was shown (keyed by its
    SHA-256), not a second upload that might differ."""

    __tablename__ = "import_uploads"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # users | billing_codes
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


# The audit log page reads newest first, filtered by actor or action.
Index("ix_audit_log_at", AuditEntry.at)
Index("ix_audit_log_actor_at", AuditEntry.actor, AuditEntry.at)
Index("ix_audit_log_action_at", AuditEntry.action, AuditEntry.at)

# --- desk (issue 17: the cash desk) ---


class DeskDrawer(Base):
    """One clerk's cash drawer from opening (with its float) to the count at the end of
    the day; at most one open drawer per clerk (a partial unique index)."""

    __tablename__ = "desk_drawers"
    __table_args__ = (Index("uq_desk_drawers_open_clerk", "clerk_id", unique=True,
                            sqlite_where=text("closed_at IS NULL"),
                            postgresql_where=text("closed_at IS NULL")),)
    id: Mapped[int] = mapped_column(primary_key=True)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    clerk: Mapped[str] = mapped_column(String(100))  # the username, as audited
    currency: Mapped[str] = mapped_column(String(3))
    opening_float: Mapped[Decimal] = mapped_column(Money())
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    expected: Mapped[Decimal | None] = mapped_column(Money())
    counted: Mapped[Decimal | None] = mapped_column(Money())
    difference: Mapped[Decimal | None] = mapped_column(Money())
    note: Mapped[str | None] = mapped_column(String(500))


class DeskOperation(Base):
    """A money operation at the desk; its id is the receipt number. ``operation`` is the
    form's hidden id: UNIQUE, so a double submit or a replay posts once."""

    __tablename__ = "desk_operations"
    id: Mapped[int] = mapped_column(primary_key=True)
    operation: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # cash_in | cash_out | job_refund | voucher_sale
    method: Mapped[str] = mapped_column(String(16))  # cash | card_terminal | cheque | credit
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    drawer_id: Mapped[int] = mapped_column(ForeignKey("desk_drawers.id"), index=True)
    clerk: Mapped[str] = mapped_column(String(100))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


# admin_site (issue 17): the administration console's site settings.


class PriceListUpload(Base):
    """A price list uploaded from ``/admin/prices``: its TOML as uploaded, who and when.

    Rows are never changed: each upload is a version. The price book is the files of
    ``[pricing] price_lists_dir`` plus these, an upload replacing a file's list of the
    same scope from the same period; ``effective_from`` is the start of the accounting
    period the upload was made in (or the file's later date).
    """

    __tablename__ = "price_list_uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    scope_kind: Mapped[str] = mapped_column(String(16))
    scope_target: Mapped[str] = mapped_column(String(200), default="")
    effective_from: Mapped[date] = mapped_column(Date)
    toml: Mapped[str] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Notification(Base):
    """One e-mail in the outbox (docs/notifications.md).

    Written in the same database transaction as the event that caused it, so a committed
    charge always has its alert and a rolled-back one never does; sent later by the
    outbox worker, never inside the event's transaction (an SMTP server that is down
    must not block or undo a charge). ``dedupe_key`` makes recording idempotent: the
    same event recorded twice (a retried request, two backend processes) is one row.
    ``context`` holds JSON values only; amounts are decimal strings, times ISO 8601 UTC:
    the template formats them in the recipient's language when the mail is rendered.
    Status: pending -> sent | failed (a permanent refusal, shown to the administrator).
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))  # the template name: low_balance, ...
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Not sent before this instant: a grouping window still open, or the next retry.
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # A worker's lease on the row while it sends (several backend processes).
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # Fixed at the first attempt, so a retry after an unknown outcome carries the same
    # Message-ID and a mail client can drop the duplicate.
    message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When it was given up (status failed): shown to the administrator.
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DeviceProblem(Base):
    """One device problem, from the moment it is seen until it clears (docs/notifications.md).

    ``code`` is the problem in our words (``jam``, ``toner_empty``, ``kiosk_silent``...),
    ``subject`` what it is about within the terminal ("" for the printer itself, a supply's
    name, a hold's id). ``open_key`` is ``terminal:code:subject`` while the problem is
    open and NULL once it cleared: being unique, it lets exactly one open row exist per
    device and problem, even with two backend processes seeing the same alert at once
    (the second insert fails and is a no-op), while closed rows keep the history and a
    recurrence opens a new row and a new mail. ``source`` says what clears it: the next
    alert or supplies report of the kiosk, its next heartbeat, the hold's settlement.
    """

    __tablename__ = "device_problems"
    __table_args__ = (Index("ix_device_problems_terminal", "terminal_id", "cleared_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    source: Mapped[str] = mapped_column(String(16))  # alert | supplies | heartbeat | hold
    code: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200), default="")
    # The raw codes and the printer's own words, for the mail and the admin page.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    open_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class UserNotificationSettings(Base):
    """A user's notification choices and the rules' memory (docs/notifications.md).

    Choices: NULL means "the site's default" (``[notifications.low_balance]`` and
    ``[notifications.transactions]``), so a change of the default reaches everyone who
    made no choice. Memory, written only under the user's row lock (the ledger's
    serialisation point, so two terminals charging at once cannot both send):
    ``low_balance_sent`` is the hysteresis (true from the low-balance mail until the
    credit rose above threshold + margin); ``alerts_quiet_until`` is when the next
    transaction mail may leave, ``alert_group_id`` the grouped mail still open
    (pending) for the movements until then, due at ``alert_group_due``.
    """

    __tablename__ = "user_notification_settings"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    low_balance_enabled: Mapped[bool | None] = mapped_column()
    low_balance_threshold: Mapped[Decimal | None] = mapped_column(Money())
    transactions_enabled: Mapped[bool | None] = mapped_column()
    low_balance_sent: Mapped[bool] = mapped_column(default=False, server_default=false())
    alerts_quiet_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    alert_group_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))
    alert_group_due: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Client(Base):
    """Who receives a statement (issue 19): a fleet client owning sites and devices, and/or
    a billing-code client (``billing_code_id``: the top-level code whose projects' charges
    are this client's). ``parent_id`` is seed 002's hierarchy: a member's issued statement
    is transferred to the parent at the end of the period."""

    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    billing_code_id: Mapped[int | None] = mapped_column(ForeignKey("billing_codes.id"),
                                                        unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # The day of the month a billing period starts (1..28, so every month has it).
    billing_day: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Device(Base):
    """A printer of the fleet. ``code`` is the printer name a kiosk reports
    (``terminals.device``): a kiosk's counters and jobs are this device's."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(100))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class MeterReading(Base):
    """One page counter as a kiosk read it (a ``counters`` event): ``counter`` is the
    vocabulary of drivers.snmp (``total``, ``total_mono``, ``scan_total``...), the vendor
    prefix dropped; ``serial`` tells a replaced device from a reset one."""

    __tablename__ = "meter_readings"
    __table_args__ = (UniqueConstraint("event_id", "counter"),
                      Index("ix_meter_readings_device_counter_at", "device_id", "counter",
                            "read_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("terminal_events.id"))
    read_at: Mapped[datetime] = mapped_column(UtcDateTime())
    counter: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(BigInteger)
    serial: Mapped[str | None] = mapped_column(String(100))


class SupplyReading(Base):
    """One supply's level as a kiosk read it (a ``supplies`` event); NULL: unknown."""

    __tablename__ = "supply_readings"
    __table_args__ = (UniqueConstraint("event_id", "supply"),
                      Index("ix_supply_readings_device_supply_at", "device_id", "supply",
                            "read_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("terminal_events.id"))
    read_at: Mapped[datetime] = mapped_column(UtcDateTime())
    supply: Mapped[str] = mapped_column(String(200))
    level_percent: Mapped[int | None] = mapped_column(Integer)


class ClientPlan(Base):
    """One version of what a client pays (issue 19, docs/statements.md): a validated
    TOML plan file, kept as uploaded (``source``) and as parsed (``terms``, JSON with
    decimal strings). The version in force for a period is the latest whose
    ``effective_from`` is on or before the period's first day; a version can only start
    at the current period or later, so an earlier period is never re-priced."""

    __tablename__ = "client_plans"
    __table_args__ = (UniqueConstraint("client_id", "effective_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    billing_type: Mapped[str] = mapped_column(String(16))  # simple|device_model|tiered|consumable
    currency: Mapped[str] = mapped_column(String(3))
    effective_from: Mapped[date] = mapped_column(Date)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Statement(Base):
    """A client's statement for one billing period ``[period_start, period_end)``.

    Status: draft -> issued -> paid | overdue | cancelled (backend/statements/status.py).
    A draft's lines are recomputed on each generation; from ``issued`` on they are
    frozen. ``period_key`` is ``client:period_start`` while the statement is not
    cancelled and NULL once it is: being unique, it allows exactly one live statement
    per client and period, even with two generators at once. ``transferred_to_id``:
    seed 002's hierarchy, the parent's statement that carries this one as a line.
    """

    __tablename__ = "statements"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("client_plans.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    period_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    due_date: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    transferred_to_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"))


class StatementLine(Base):
    """One line of a statement. ``unit_price`` and ``amount`` are exact (a unit price
    may have 4 decimals); the statement's total is their sum rounded once. ``details``:
    the tier (first, last page), the device or model, the member statement moved here."""

    __tablename__ = "statement_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # fee|pages|included|tier|consumable|transfer
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PaymentRequest(Base):
    """An issued statement sent by e-mail with a payment link (seed 004).

    ``reference`` is what the gateway echoes back (``stmt-...``): the webhook tells a
    payment request from a top-up by it. Status: open -> paid | cancelled. Reminders go
    out on the configured days after ``sent_at`` until then, each once (the outbox's
    dedupe key); ``paid_event_id`` keeps the webhook that paid it, so a replay is a
    no-op."""

    __tablename__ = "payment_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    gateway: Mapped[str] = mapped_column(String(32))
    gateway_payment_id: Mapped[str | None] = mapped_column(String(200), index=True)
    pay_url: Mapped[str] = mapped_column(Text)
    to_address: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="open")
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    paid_event_id: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# Usage reports (issue 19, migration 0023): the job log is read by settlement time, and
# refunds and 3D jobs are joined to their hold.
Index("ix_holds_status_settled_at", Hold.status, Hold.settled_at)
Index("ix_ledger_transactions_hold_id", LedgerTransaction.hold_id)
Index("ix_ledger_transactions_kind_created_at", LedgerTransaction.kind,
      LedgerTransaction.created_at)
Index("ix_print3d_jobs_hold_id", Print3DJob.hold_id)


class SavedReport(Base):
    """A usage report mailed on a schedule (issue 19): ``query`` is the report's words
    (by, where; backend.reports.query), run over the last complete day, week or month;
    ``recipients`` comma-separated addresses. Each period is mailed once per recipient
    (the outbox's dedupe key names the report, the period and the address)."""

    __tablename__ = "saved_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
    schedule: Mapped[str] = mapped_column(String(8))  # daily | weekly | monthly
    recipients: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
