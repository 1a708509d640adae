"""Statements on SQLite and PostgreSQL: seed 001's worked example as a statement, a
price change that applies from the current period only (an issued statement is
unchanged), seed 002's hierarchy transfer, and transitions refused when not allowed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from client_plan_helpers import (
    SEED_TIERS,
    add_device,
    add_plan,
    at,
    captured_job,
    make_client,
    migrated,
    read_counters,
    simple_plan,
)
from sqlalchemy import select

from backend.db import Database
from backend.models import AuditEntry, Client, Statement, StatementLine
from backend.statements.errors import StatementError
from backend.statements.generate import Period, generate_draft
from backend.statements.status import change, find_statement, mark_overdue

OCT, NOV, DEC = Period(date(2026, 10, 1), date(2026, 11, 1)), \
    Period(date(2026, 11, 1), date(2026, 12, 1)), Period(date(2026, 12, 1), date(2027, 1, 1))


def generate(db: Database, code: str, period: Period, today: date) -> tuple[str, Decimal]:
    with db.write() as session:
        client = session.scalar(select(Client).where(Client.code == code))
        assert client is not None
        statement = generate_draft(session, client, period, actor="test", now=at(today))
        return statement.number, statement.total


def lines(db: Database, number: str) -> list[tuple[str, int, Decimal, Decimal]]:
    with db.read() as session:
        statement = find_statement(session, number)
        return [(line.description, line.quantity, line.unit_price, line.amount)
                for line in session.scalars(select(StatementLine).where(
                    StatementLine.statement_id == statement.id)
                    .order_by(StatementLine.position))]


def set_status(db: Database, number: str, wanted: str, today: date) -> None:
    with db.write() as session:
        change(session, find_statement(session, number, lock=True), wanted, actor="test",
               now=at(today))


def test_seed_001_example_from_billing_code_jobs_is_the_statement(db: Database) -> None:
    migrated(db)
    make_client(db, "ACME", billing_code="ACME")
    add_plan(db, "ACME", SEED_TIERS.format(start=OCT.start), OCT.start)
    with db.write() as session:  # a project below the client's code: its jobs count too
        from backend.models import BillingCode
        parent = session.scalar(select(BillingCode).where(BillingCode.code == "ACME"))
        assert parent is not None
        session.add(BillingCode(code="ACME-WEB", name="web", parent_id=parent.id, active=True))
    captured_job(db, "ACME", at(date(2026, 10, 3)), mono=13_000, colour=11_000)
    captured_job(db, "ACME-WEB", at(date(2026, 10, 30)), mono=207, colour=216)
    captured_job(db, "ACME", at(date(2026, 11, 1), 0), mono=99, colour=99)  # next period
    number, total = generate(db, "ACME", OCT, date(2026, 11, 2))
    assert total == Decimal("161751.20")
    got = lines(db, number)
    assert [(q, p, a) for _, q, p, a in got] == [
        (100, Decimal("10"), Decimal("1000")), (900, Decimal("8"), Decimal("7200")),
        (9000, Decimal("6"), Decimal("54000")), (3207, Decimal("4"), Decimal("12828")),
        (100, Decimal("12"), Decimal("1200")), (900, Decimal("10.5"), Decimal("9450")),
        (9000, Decimal("7.75"), Decimal("69750")), (1216, Decimal("5.20"), Decimal("6323.20"))]
    assert sum(a for _, _, _, a in got[:4]) == Decimal("75028")
    assert sum(a for _, _, _, a in got[4:]) == Decimal("86723.20")


def test_fleet_counters_priced_per_device_model(db: Database) -> None:
    migrated(db)
    make_client(db, "GLOBEX")
    add_plan(db, "GLOBEX", '[plan]\nname = "per model"\ncurrency = "EUR"\n'
             f'effective_from = {OCT.start}\ntype = "device_model"\n\n[device_model]\n'
             'mono = "0.02"\ncolour = "0.10"\n\n[[device_model.models]]\n'
             'model = "HP LaserJet M607"\nmono = "0.0125"\ncolour = "0"\nscan = "0.001"\n',
             OCT.start)
    hp = add_device(db, "GLOBEX", "MFP-A", "HP LaserJet M607")
    other = add_device(db, "GLOBEX", "MFP-B", "Canon C5535")
    read_counters(db, hp, at(date(2026, 9, 30)), total_mono=1000, scan_total=10)
    read_counters(db, hp, at(date(2026, 10, 15)), total_mono=1800, scan_total=510)
    read_counters(db, other, at(date(2026, 9, 30)), total_mono=50, total_colour=5)
    read_counters(db, other, at(date(2026, 10, 31)), total_mono=150, total_colour=45)
    number, total = generate(db, "GLOBEX", OCT, date(2026, 11, 1))
    assert lines(db, number) == [
        ("HP LaserJet M607: mono pages", 800, Decimal("0.0125"), Decimal("10")),
        ("HP LaserJet M607: scanned pages", 500, Decimal("0.001"), Decimal("0.5")),
        ("other devices: mono pages", 100, Decimal("0.02"), Decimal("2")),
        ("other devices: colour pages", 40, Decimal("0.1"), Decimal("4"))]
    assert total == Decimal("16.50")


def test_a_price_change_applies_from_the_current_period_and_issued_stays(
        db: Database) -> None:
    migrated(db)
    make_client(db, "ACME", billing_code="ACME")
    add_plan(db, "ACME", simple_plan(OCT.start, mono="0.05", fee="10", included_mono=100),
             OCT.start)
    captured_job(db, "ACME", at(date(2026, 10, 10)), mono=1100, colour=4)
    captured_job(db, "ACME", at(date(2026, 11, 10)), mono=1100, colour=4)
    october, total = generate(db, "ACME", OCT, date(2026, 11, 3))
    assert total == Decimal("61.00")  # 10 fee + 1000 x 0.05 + 4 x 0.25
    set_status(db, october, "issued", date(2026, 11, 3))
    frozen = lines(db, october)
    # Mid-November the price rises: from the current period (November) on, never before.
    with pytest.raises(StatementError, match="before the current period"):
        add_plan(db, "ACME", simple_plan(OCT.start, mono="0.08"), date(2026, 11, 15))
    with pytest.raises(StatementError, match="first day of a billing period"):
        add_plan(db, "ACME", simple_plan(date(2026, 11, 15), mono="0.08"), date(2026, 11, 15))
    add_plan(db, "ACME", simple_plan(NOV.start, mono="0.08"), date(2026, 11, 15))
    with pytest.raises(StatementError, match="frozen"):
        generate(db, "ACME", OCT, date(2026, 12, 1))
    _november, total = generate(db, "ACME", NOV, date(2026, 12, 1))
    assert total == Decimal("89.00")  # 1100 x 0.08 + 4 x 0.25, no fee in the new version
    assert lines(db, october) == frozen
    with db.read() as session:
        assert find_statement(session, october).total == Decimal("61.00")


def test_a_members_issued_statement_is_carried_by_the_parents(db: Database) -> None:
    migrated(db)
    make_client(db, "HOLD")
    make_client(db, "SUB1", parent="HOLD", billing_code="SUB1")
    make_client(db, "SUB2", parent="HOLD", billing_code="SUB2")
    for code in ("HOLD", "SUB1", "SUB2"):
        add_plan(db, code, simple_plan(OCT.start, fee="5" if code == "HOLD" else "0"),
                 OCT.start)
    captured_job(db, "SUB1", at(date(2026, 10, 5)), mono=100, colour=0)   # 5.00
    captured_job(db, "SUB2", at(date(2026, 10, 6)), mono=0, colour=10)    # 2.50
    sub1, _ = generate(db, "SUB1", OCT, date(2026, 11, 1))
    sub2, _ = generate(db, "SUB2", OCT, date(2026, 11, 1))
    set_status(db, sub1, "issued", date(2026, 11, 1))  # SUB2 stays a draft: not carried
    parent, total = generate(db, "HOLD", OCT, date(2026, 11, 1))
    assert total == Decimal("10.00")
    assert lines(db, parent)[-1] == (f"Statement {sub1} of SUB1 Ltd", 1, Decimal("5.00"),
                                     Decimal("5.00"))
    set_status(db, sub2, "issued", date(2026, 11, 1))
    parent_again, total = generate(db, "HOLD", OCT, date(2026, 11, 1))  # the draft again
    assert parent_again == parent and total == Decimal("12.50")
    with db.read() as session:
        carried = {s.number: s.transferred_to_id for s in session.scalars(select(Statement))}
        parent_id = find_statement(session, parent).id
    assert carried[sub1] == carried[sub2] == parent_id
    with pytest.raises(StatementError, match="carried by"):
        set_status(db, sub1, "cancelled", date(2026, 11, 2))
    set_status(db, parent, "issued", date(2026, 11, 2))
    set_status(db, parent, "paid", date(2026, 11, 20))
    with db.read() as session:
        assert {find_statement(session, n).status for n in (sub1, sub2)} == {"paid"}


def test_transitions_refused_when_not_allowed_and_each_change_audited(db: Database) -> None:
    migrated(db)
    make_client(db, "ACME", billing_code="ACME")
    add_plan(db, "ACME", simple_plan(OCT.start), OCT.start)
    current, _ = generate(db, "ACME", NOV, date(2026, 11, 20))
    with pytest.raises(StatementError, match="can be issued from then on"):
        set_status(db, current, "issued", date(2026, 11, 20))
    with pytest.raises(StatementError, match="has not started"):
        generate(db, "ACME", DEC, date(2026, 11, 20))
    number, _ = generate(db, "ACME", OCT, date(2026, 11, 2))
    for wanted in ("paid", "overdue"):
        with pytest.raises(StatementError, match="is draft: it cannot become"):
            set_status(db, number, wanted, date(2026, 11, 2))
    set_status(db, number, "issued", date(2026, 11, 2))
    with pytest.raises(StatementError, match="is issued: it cannot become issued"):
        set_status(db, number, "issued", date(2026, 11, 2))
    with db.write() as session:
        assert mark_overdue(session, at(date(2026, 12, 2))) == []  # due 2 December
    with db.write() as session:
        assert mark_overdue(session, at(date(2026, 12, 3))) == [number]
    set_status(db, number, "cancelled", date(2026, 12, 4))
    with pytest.raises(StatementError, match="is cancelled: it cannot become paid"):
        set_status(db, number, "paid", date(2026, 12, 5))
    again, _ = generate(db, "ACME", OCT, date(2026, 12, 5))  # cancelled: a new one may follow
    assert again == f"{number}-2"
    with db.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).where(
            AuditEntry.subject == f"statement:{number}").order_by(AuditEntry.id))]
    assert actions == ["statement.generated", "statement.issued", "statement.overdue",
                       "statement.cancelled"]
