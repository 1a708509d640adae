"""Quota refill: once per period even when two processes (here: two connections in two
threads, each its own transaction) run it at the same moment; carry-over cap."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from backend import ledger
from backend.db import Database
from backend.demo import seed_demo
from backend.migrate import upgrade
from backend.models import Group, QuotaRule, User
from backend.refill import refill_due

NOVEMBER = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)


def _setup(db: Database) -> None:
    upgrade(db.engine)
    seed_demo(db, b"k", "EUR")
    with db.write() as session:
        staff = session.scalar(select(Group).where(Group.name == "staff"))
        assert staff is not None
        session.add(QuotaRule(group_id=staff.id, period="monthly", amount=Decimal("20.00"),
                              carry_over_cap=Decimal("60.00")))


def _carol_virtual(db: Database) -> Decimal:
    with db.read() as session:
        carol = session.scalar(select(User).where(User.username == "carol"))
        assert carol is not None
        return ledger.balance(session, carol, "EUR").virtual_credit


def test_two_concurrent_refills_credit_once(db: Database) -> None:
    _setup(db)  # carol starts at 50.00 virtual
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run() -> None:
        barrier.wait()
        with db.write() as session:
            results.append(len(refill_due(session, "EUR", NOVEMBER)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert _carol_virtual(db) == Decimal("60.00")  # 50 + 20 capped at 60
    with db.write() as session:
        assert refill_due(session, "EUR", NOVEMBER) == []


def test_next_period_refills_again_up_to_the_cap(db: Database) -> None:
    _setup(db)
    with db.write() as session:
        carol = session.scalar(select(User).where(User.username == "carol"))
        assert carol is not None
        ledger.adjust(session, carol, "EUR", account_kind="user_virtual",
                      amount=Decimal("-45.00"), reason="spent", actor="test")
    with db.write() as session:
        assert len(refill_due(session, "EUR", NOVEMBER)) == 1
    assert _carol_virtual(db) == Decimal("25.00")
    with db.write() as session:
        assert len(refill_due(session, "EUR", DECEMBER)) == 1
    assert _carol_virtual(db) == Decimal("45.00")
