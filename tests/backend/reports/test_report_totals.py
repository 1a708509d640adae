"""Report totals equal the ledger's sums and the job log's, on SQLite and PostgreSQL:
a small history for every grouping, and the 50 000-job history once per database."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from generate import END, START, Expected, generate
from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.orm import Session

from backend.db import Database
from backend.models import Account, AccountKind, Hold, LedgerEntry, LedgerTransaction
from backend.money import from_storage
from backend.reports.engine import ReportRow, run, total
from backend.reports.query import GROUPINGS, ReportQuery, parse_query


def _ledger_sum(session: Session, kind: str) -> Decimal:
    """What the revenue account received (charges) or gave back (refunds) for jobs
    settled in the generated period: straight from the ledger entries."""
    raw = session.scalar(
        select(func.sum(type_coerce(LedgerEntry.amount, BigInteger)))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(Account, Account.id == LedgerEntry.account_id)
        .join(Hold, Hold.id == LedgerTransaction.hold_id)
        .where(LedgerTransaction.kind == kind, Account.kind == AccountKind.REVENUE,
               Hold.settled_at >= START, Hold.settled_at < END))
    return abs(from_storage(raw))


def _job_log_sums(session: Session) -> tuple[int, int, Decimal]:
    jobs, pages, charged = session.execute(
        select(func.count(Hold.id),
               func.sum(func.coalesce(Hold.mono_sides, 0) + func.coalesce(Hold.colour_sides, 0)),
               func.sum(type_coerce(Hold.captured_amount, BigInteger)))
        .where(Hold.status == "captured", Hold.settled_at >= START, Hold.settled_at < END)
    ).one()
    return int(jobs), int(pages), from_storage(charged)


def _summed(rows: list[ReportRow]) -> tuple[int, int, Decimal, Decimal]:
    return (sum(r.jobs for r in rows), sum(r.pages for r in rows),
            sum((r.charged for r in rows), Decimal(0)), sum((r.refunded for r in rows), Decimal(0)))


def _check_against_ledger(db: Database, expected: Expected) -> None:
    query = ReportQuery(("user",), START, END, "month")
    with db.read() as session:
        rows = run(session, query)
        whole = total(session, query)
        charges, refunds = _ledger_sum(session, "charge"), _ledger_sum(session, "refund")
        log_jobs, log_pages, log_charged = _job_log_sums(session)
        by_device = {row.keys[0]: row.jobs
                     for row in run(session, ReportQuery(("device",), START, END))}
        by_month = {row.keys[0]: row.charged
                    for row in run(session, ReportQuery(("period",), START, END, "month"))}
    assert _summed(rows) == (whole.jobs, whole.pages, whole.charged, whole.refunded)
    assert whole.charged == charges == log_charged == expected.charged
    assert whole.refunded == refunds == expected.refunded
    assert whole.jobs == log_jobs == expected.jobs
    assert whole.pages == log_pages == expected.pages_mono + expected.pages_colour
    assert whole.sheets == expected.sheets
    assert whole.grams == expected.grams
    assert whole.print_minutes == expected.minutes
    assert by_device == dict(expected.jobs_by_device)
    assert by_month == dict(expected.charged_by_month)


def test_report_totals_equal_the_ledger_and_the_job_log(history_db: Database) -> None:
    db = history_db
    expected = generate(db, 3000, users=40)
    _check_against_ledger(db, expected)


@pytest.mark.timeout(120)
def test_fifty_thousand_jobs_report_totals_equal_the_ledger(history_db: Database) -> None:
    db = history_db
    """The one large history: once per database (the `db` parameter), ~30 s at most."""
    expected = generate(db, 50_000)
    _check_against_ledger(db, expected)


def test_every_grouping_adds_up_to_the_total_except_the_fan_outs(history_db: Database) -> None:
    db = history_db
    generate(db, 1500, users=30)
    with db.read() as session:
        whole = total(session, ReportQuery(("user",), START, END))
        for grouping in GROUPINGS:
            rows = run(session, ReportQuery((grouping,), START, END, "week"))
            jobs = sum(row.jobs for row in rows)
            if grouping in ("group", "card"):
                # a third of the users are in two groups, a tenth have two cards
                assert jobs > whole.jobs, grouping
            else:
                assert jobs == whole.jobs, grouping
                assert sum((r.net for r in rows), Decimal(0)) == whole.net, grouping


def test_functions_and_filters_select_the_right_jobs(history_db: Database) -> None:
    db = history_db
    expected = generate(db, 2000, users=30)
    with db.read() as session:
        by_function = {row.keys[0]: row.jobs
                       for row in run(session, ReportQuery(("function",), START, END))}
        only_3d = total(session, parse_query("user", "month", "2026-09-01", "2026-12-01",
                                             ["function=3d"]))
        site = run(session, parse_query("site,device", "range", "2026-09-01", "2026-12-01",
                                        ["site=gSITE00"]))
        group = total(session, parse_query("user", "month", "2026-09-01", "2026-12-01",
                                           ["group=ggroup-1,ggroup-2"]))
        in_group = run(session, parse_query("group", "month", "2026-09-01", "2026-12-01",
                                            ["group=ggroup-1,ggroup-2"]))
    assert by_function == dict(expected.jobs_by_function)
    assert only_3d.jobs == expected.jobs_by_function["3d"] and only_3d.pages == 0
    assert only_3d.grams == expected.grams
    assert {row.keys[0] for row in site} == {"gSITE00"}
    assert {row.keys[1] for row in site} == {"gPRN00", "gPRN06", "gPRN12", "gPRN18"}
    assert sum(row.jobs for row in site) == sum(
        expected.jobs_by_device[d] for d in ("gPRN00", "gPRN06", "gPRN12", "gPRN18"))
    # EXISTS: a user in both groups counts once in the total, once per group in rows
    assert 0 < group.jobs <= sum(row.jobs for row in in_group)
    assert {row.keys[0] for row in in_group} == {"ggroup-1", "ggroup-2"}


def test_periods_bucket_by_utc_day_week_and_month(history_db: Database) -> None:
    db = history_db
    generate(db, 1000, users=20)
    with db.read() as session:
        months = [r.keys[0] for r in run(session, ReportQuery(("period",), START, END, "month"))]
        weeks = [r.keys[0] for r in run(session, ReportQuery(("period",), START, END, "week"))]
        days = run(session, ReportQuery(("period",), START, END, "day"))
    assert months == ["2026-09", "2026-10", "2026-11"]
    assert weeks[0] == "2026-08-31" and weeks[-1] == "2026-11-30"  # Mondays
    assert len(weeks) == 14
    assert len(days) == 91 and days[0].keys[0] == "2026-09-01"
    per_month: dict[str, int] = defaultdict(int)
    for row in days:
        per_month[row.keys[0][:7]] += row.jobs
    with db.read() as session:
        assert per_month == {r.keys[0]: r.jobs for r in
                             run(session, ReportQuery(("period",), START, END, "month"))}
