"""The ledger's rules directly: balanced transactions, consumption order, adjustments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import ledger
from backend.db import Database
from backend.demo import seed_demo
from backend.migrate import upgrade
from backend.models import AccountKind, AuditEntry, LedgerTransaction, User

D = Decimal


@pytest.mark.parametrize(
    ("amount", "virtual", "personal", "order", "expected"),
    [
        ("3.00", "10.00", "5.00", "virtual_first", ("3.00", "0.00")),
        ("12.00", "10.00", "5.00", "virtual_first", ("10.00", "2.00")),
        ("3.00", "10.00", "5.00", "personal_first", ("0.00", "3.00")),
        ("7.00", "10.00", "5.00", "personal_first", ("2.00", "5.00")),
        # Beyond all credit: the rest goes into the personal overdraft, never virtual.
        ("17.00", "10.00", "5.00", "virtual_first", ("10.00", "7.00")),
        ("17.00", "10.00", "5.00", "personal_first", ("10.00", "7.00")),
        ("1.00", "0.00", "-2.00", "virtual_first", ("0.00", "1.00")),
    ],
)
def test_split_charge(amount: str, virtual: str, personal: str, order: ledger.ConsumptionOrder,
                      expected: tuple[str, str]) -> None:
    assert ledger.split_charge(D(amount), D(virtual), D(personal), order) == (
        D(expected[0]), D(expected[1]))


@pytest.fixture
def seeded(db: Database) -> Database:
    upgrade(db.engine)
    seed_demo(db, b"k", "EUR")
    return db


def _alice(session: Session) -> User:
    user = session.scalar(select(User).where(User.username == "alice"))
    assert user is not None
    return user


def test_unbalanced_transaction_is_refused(seeded: Database) -> None:
    with pytest.raises(ValueError, match="unbalanced"), seeded.write() as session:
        revenue = ledger.get_account(session, AccountKind.REVENUE, "EUR")
        ledger.post(session, LedgerTransaction(kind="charge"), [(revenue, D("1.00"))])


def test_adjustment_needs_a_reason_and_is_audited(seeded: Database) -> None:
    with pytest.raises(ledger.LedgerError) as refused, seeded.write() as session:
        ledger.adjust(session, _alice(session), "EUR", account_kind=AccountKind.USER_PERSONAL,
                      amount=D("2.00"), reason=" ", actor="admin:ann")
    assert refused.value.code == "reason_required"
    with seeded.write() as session:
        ledger.adjust(session, _alice(session), "EUR", account_kind=AccountKind.USER_PERSONAL,
                      amount=D("2.00"), reason="goodwill after outage", actor="admin:ann")
    with seeded.read() as session:
        assert ledger.balance(session, _alice(session), "EUR").personal_credit == D("7.00")
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "ledger.adjust" in actions


def test_virtual_credit_cannot_go_negative(seeded: Database) -> None:
    with pytest.raises(ledger.LedgerError) as refused, seeded.write() as session:
        ledger.adjust(session, _alice(session), "EUR", account_kind=AccountKind.USER_VIRTUAL,
                      amount=D("-10.01"), reason="correction", actor="admin:ann")
    assert refused.value.code == "virtual_credit_negative"


def test_invariant_check_catches_a_cache_that_diverges_from_entries(seeded: Database) -> None:
    from sqlalchemy import update

    from backend.models import Account

    with seeded.write() as session:
        user = _alice(session)
        virtual, _personal = ledger.user_accounts(session, user.id, "EUR")
        assert ledger.check_invariants(session).ok
        session.execute(update(Account).where(Account.id == virtual.id).values(balance=D("99")))
        report = ledger.check_invariants(session)
        assert not report.ok and "user_virtual" in report.cache_mismatches[0]
        session.rollback()
