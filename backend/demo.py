"""Demo data: three users with cards, PINs and balances, a demo terminal, and billing
codes: client ACME pays for its projects (``payer = code``), GLOBEX's are paid by the user.

``seed_demo`` is idempotent (run on every ``printkiosk backend --demo-data`` start): a user
that exists is left as it is, so balances spent during a demo survive a restart.
DEMO_TERMINAL_TOKEN is public on purpose; a real deployment enrols terminals instead.
So are the demo vouchers: batch ``DEMO`` (20 sold vouchers of 2.00, expiring a year
after seeding) is generated from a fixed public seed, so that :func:`demo_voucher_codes`
can show the codes still redeemable on the kiosk's idle screen.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import ledger, vouchers
from backend.audit import record
from backend.db import Database
from backend.models import (
    AccountKind,
    BillingCode,
    BillingCodeAssignment,
    Card,
    Group,
    User,
    Voucher,
    VoucherBatch,
)
from backend.security import card_hash, hash_pin
from backend.terminals import register_terminal
from billing.voucher_codes import VoucherCode, new_code

DEMO_TERMINAL_TOKEN = "demo-terminal-token"  # noqa: S105 (demo only, documented)
DEMO_TERMINAL_NAME = "demo kiosk"
DEMO_BATCH = "DEMO"
DEMO_VOUCHERS = 20
DEMO_VOUCHER_VALUE = Decimal("2.00")
_DEMO_VOUCHER_SEED = "printkiosk demo vouchers"  # public on purpose, like the token


@dataclass(frozen=True)
class DemoUser:
    card: str
    username: str
    display_name: str
    language: str
    virtual: Decimal
    personal: Decimal
    pin: str
    group: str | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("1001", "alice", "Alice Martin", "fr", Decimal("10.00"), Decimal("5.00"), "1234"),
    DemoUser("1002", "bob", "Bob Dupont", "en", Decimal("2.00"), Decimal("0.00"), "2345"),
    DemoUser("1003", "carol", "Carol Staff", "en", Decimal("50.00"), Decimal("20.00"), "3456",
             "staff"),
)
# (card, username, display name) for the kiosk's demo screen.
DEMO_CARDS: tuple[tuple[str, str, str], ...] = tuple(
    (user.card, user.username, user.display_name) for user in DEMO_USERS
)


@dataclass(frozen=True)
class DemoCode:
    code: str
    name: str
    client: str | None = None
    payer: str | None = None  # None: as the client
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


# Carol (staff) may use ACME and its projects; Alice and Bob ACME's website project;
# Carol also GLOBEX's audit, which she pays herself.
DEMO_CODES: tuple[DemoCode, ...] = (
    DemoCode("ACME", "ACME Corp", payer="code", groups=("staff",)),
    DemoCode("ACME-WEB", "Website redesign", "ACME", users=("alice", "bob")),
    DemoCode("ACME-PRINT", "Print campaign", "ACME"),
    DemoCode("GLOBEX", "Globex", payer="user"),
    DemoCode("GLOBEX-AUDIT", "Annual audit", "GLOBEX", users=("carol",)),
)


def _create_code(session: Session, demo: DemoCode) -> None:
    parent = (session.scalar(select(BillingCode).where(BillingCode.code == demo.client))
              if demo.client else None)
    code = BillingCode(code=demo.code, name=demo.name, payer=demo.payer,
                       parent_id=parent.id if parent else None)
    session.add(code)
    session.flush()
    for username in demo.users:
        user = session.scalar(select(User).where(User.username == username))
        if user is not None:
            session.add(BillingCodeAssignment(billing_code_id=code.id, user_id=user.id))
    for name in demo.groups:
        session.add(BillingCodeAssignment(billing_code_id=code.id,
                                          group_id=_group(session, name).id))
    record(session, "demo", "billing_code.create", demo.code)


def _group(session: Session, name: str) -> Group:
    group = session.scalar(select(Group).where(Group.name == name))
    if group is None:
        group = Group(name=name)
        session.add(group)
        session.flush()
    return group


def _create_user(session: Session, secret: bytes, currency: str, demo: DemoUser) -> None:
    user = User(username=demo.username, display_name=demo.display_name,
                language=demo.language, pin_hash=hash_pin(secret, demo.pin),
                email=f"{demo.username}@example.org", overdraft_limit=Decimal("0.00"))
    if demo.group:
        user.groups.append(_group(session, demo.group))
    session.add(user)
    session.flush()
    session.add(Card(user_id=user.id, card_hash=card_hash(secret, demo.card), label="demo"))
    if demo.virtual:
        ledger.credit(session, user, currency, kind="refill", amount=demo.virtual,
                      source_kind=AccountKind.QUOTA_FUNDING, description="demo quota",
                      actor="demo", to_virtual=True)
    if demo.personal:
        ledger.credit(session, user, currency, kind="deposit", amount=demo.personal,
                      source_kind=AccountKind.CASH_DRAWER, description="demo cash deposit",
                      actor="demo")
    record(session, "demo", "user.create", demo.username)


def seed_demo(db: Database, secret: bytes, currency: str = "EUR") -> None:
    with db.write() as session:
        ledger.ensure_system_accounts(session, currency)
        register_terminal(session, secret, DEMO_TERMINAL_NAME, DEMO_TERMINAL_TOKEN)
        for demo in DEMO_USERS:
            if session.scalar(select(User).where(User.username == demo.username)) is None:
                _create_user(session, secret, currency, demo)
        for code in DEMO_CODES:
            if session.scalar(select(BillingCode).where(BillingCode.code == code.code)) is None:
                _create_code(session, code)
        _seed_demo_vouchers(session, secret, currency)


def _demo_codes() -> list[VoucherCode]:
    """The demo batch's codes, the same on every machine (from the public seed)."""
    randbits = random.Random(_DEMO_VOUCHER_SEED).getrandbits
    return [new_code(DEMO_BATCH, randbits) for _ in range(DEMO_VOUCHERS)]


def _seed_demo_vouchers(session: Session, secret: bytes, currency: str) -> None:
    if session.scalar(select(VoucherBatch.id).where(VoucherBatch.public_id == DEMO_BATCH)):
        return
    randbits = random.Random(_DEMO_VOUCHER_SEED).getrandbits
    vouchers.create_batch(session, secret, value=DEMO_VOUCHER_VALUE, currency=currency,
                          count=DEMO_VOUCHERS,
                          expires_on=vouchers.today(None) + timedelta(days=365),
                          prefix=DEMO_BATCH, note="demo vouchers (public codes)",
                          actor="demo", public_id=DEMO_BATCH, randbits=randbits,
                          sealed=False)
    vouchers.sell(session, DEMO_BATCH, DEMO_VOUCHERS, "cash", "demo", actor="demo")


def demo_voucher_codes(database: Database, limit: int = 3) -> list[str]:
    """Display codes of demo vouchers still redeemable, lowest serials first."""
    codes = _demo_codes()
    with database.read() as session:
        open_serials = set(session.scalars(
            select(Voucher.serial).join(VoucherBatch, VoucherBatch.id == Voucher.batch_id)
            .where(VoucherBatch.public_id == DEMO_BATCH, Voucher.sold_at.is_not(None),
                   Voucher.redeemed_at.is_(None), Voucher.revoked_at.is_(None),
                   Voucher.broken_at.is_(None))))
    return [code.display for serial, code in enumerate(codes, start=1)
            if serial in open_serials][:limit]
