"""Usage reports on PostgreSQL with a million jobs: our report against a hand-written SQL
floor, and the CSV export's memory from 100 000 to 1 000 000 rows.

    .venv/bin/python bench/bench_reports.py [--jobs 1000000] [--seed-jobs 100000]

1. A PostgreSQL server (the tests' launcher, default settings), migrated.
2. ``--seed-jobs`` jobs from the tests' generator (tests/backend/reports/generate.py:
   users in groups, 20 devices on 6 sites of 3 clients, billing codes, refunds, 3D jobs,
   over 3 months), then copied in SQL (INSERT ... SELECT, new ids, the same times) up to
   ``--jobs``: the same distribution, loaded in seconds rather than minutes. ANALYZE.
3. Ours: ``backend.reports.engine.run`` (the CLI's and the admin page's code path),
   by user and month, and by device and month: the monthly report of November (a third
   of the jobs), and the 3 months (every job). Best of 3.
4. The floor, same run: the same GROUP BY written by hand and run with psycopg alone
   (no SQLAlchemy, no row objects). Best of 3. The difference is our own overhead.
5. CSV export (one row per job, ``--by job``, the largest a report gets) of the first
   100 000 rows and of all: tracemalloc's peak while streaming to /dev/null. A streamed
   export stays flat; a list of rows would grow tenfold.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "backend"))
sys.path.insert(0, str(REPO / "tests" / "backend" / "reports"))

import pg_cluster  # noqa: E402  (the tests' PostgreSQL launcher, reused)
import psycopg  # noqa: E402
from generate import END, START, generate  # noqa: E402  (the tests' generator, reused)
from sqlalchemy import text  # noqa: E402

from backend.db import Database  # noqa: E402
from backend.migrate import upgrade  # noqa: E402
from backend.reports.csv_export import report_csv  # noqa: E402
from backend.reports.engine import run  # noqa: E402
from backend.reports.query import ReportQuery  # noqa: E402

FLOOR = """
SELECT {label}, to_char(timezone('UTC', h.settled_at), 'YYYY-MM') AS month,
       count(h.id), sum(coalesce(h.mono_sides, 0)), sum(coalesce(h.colour_sides, 0)),
       sum((h.details ->> 'sheets')::int),
       sum(CASE WHEN h.details ->> 'sheets' IS NOT NULL THEN coalesce(h.mono_sides, 0)
                + coalesce(h.colour_sides, 0) - (h.details ->> 'sheets')::int END),
       sum(h.captured_amount), sum(r.amount), sum(p.charged_grams::numeric),
       sum(p.charged_minutes)
FROM holds h
{join}
LEFT JOIN print3d_jobs p ON p.hold_id = h.id
LEFT JOIN (SELECT t.hold_id, -sum((SELECT sum(e.amount) FROM ledger_entries e
                                     JOIN accounts a ON a.id = e.account_id
                                     WHERE e.transaction_id = t.id AND a.kind = 'revenue'))
                  AS amount
           FROM ledger_transactions t
           WHERE t.kind = 'refund' AND t.created_at >= %(start)s AND t.hold_id IS NOT NULL
           GROUP BY t.hold_id) r
       ON r.hold_id = h.id
WHERE h.status = 'captured' AND h.settled_at >= %(start)s AND h.settled_at < %(end)s
GROUP BY 1, {group} ORDER BY 1, {group}
"""
NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC)
FLOORS = {
    "user": FLOOR.format(label="u.username, u.display_name",
                         join="JOIN users u ON u.id = h.user_id", group="2, 3"),
    "device": FLOOR.format(label="coalesce(t.device, '(none)')",
                           join="JOIN terminals t ON t.id = h.terminal_id", group="2"),
}


def replicate(db: Database, seeded: int, jobs: int) -> None:
    """Copy the seeded holds (with their charges, refunds and 3D jobs) until ``jobs``."""
    copies = -(-jobs // seeded) - 1
    with db.write() as session:
        txn_span = session.scalar(text("SELECT max(id) FROM ledger_transactions"))
        entry_span = session.scalar(text("SELECT max(id) FROM ledger_entries"))
        for k in range(1, copies + 1):
            limit = min(seeded, jobs - k * seeded)
            session.execute(text(
                "CREATE TEMP TABLE pick ON COMMIT DROP AS SELECT id FROM holds "
                "WHERE id NOT LIKE 'c%' ORDER BY id LIMIT :limit"), {"limit": limit})
            params = {"k": f"c{k}_", "t": k * txn_span, "e": k * entry_span}
            session.execute(text(
                "INSERT INTO holds (id, user_id, terminal_id, amount, captured_amount, status, "
                "description, job_ref, billing_code_id, payer, offline, mono_sides, "
                "colour_sides, details, created_at, settled_at) "
                "SELECT :k || h.id, user_id, terminal_id, amount, captured_amount, status, "
                "description, job_ref, billing_code_id, payer, offline, mono_sides, "
                "colour_sides, details, created_at, settled_at FROM holds h "
                "JOIN pick USING (id)"), params)
            session.execute(text(
                "INSERT INTO ledger_transactions (id, kind, description, reason, user_id, "
                "terminal_id, hold_id, refund_of_id, billing_code_id, actor, created_at) "
                "SELECT t.id + :t, kind, description, reason, user_id, terminal_id, "
                ":k || hold_id, refund_of_id + :t, billing_code_id, actor, created_at "
                "FROM ledger_transactions t JOIN pick ON pick.id = t.hold_id"), params)
            session.execute(text(
                "INSERT INTO ledger_entries (id, transaction_id, account_id, amount) "
                "SELECT e.id + :e, e.transaction_id + :t, account_id, amount "
                "FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id "
                "JOIN pick ON pick.id = t.hold_id"), params)
            columns = ("user_id, group_name, name, stored_name, sha256, size_bytes, format, "
                       "grams, metres, minutes, grams_source, time_source, diameter_mm, "
                       "density_g_cm3, ours, slicer, flags, price_list, price, hold_amount, "
                       "currency, status, terminal_id, uploaded_by, uploaded_at, outcome, "
                       "charged_grams, charged_minutes, charged, settled_at")
            session.execute(text(
                f"INSERT INTO print3d_jobs ({columns}, hold_id) SELECT {columns}, "
                ":k || hold_id FROM print3d_jobs JOIN pick ON pick.id = print3d_jobs.hold_id"),
                params)
            session.execute(text("DROP TABLE pick"))
        session.execute(text(
            "UPDATE accounts SET balance = (SELECT coalesce(sum(amount), 0) "
            "FROM ledger_entries WHERE account_id = accounts.id)"))
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE"))


def best_of(times: int, work: object) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def csv_peak(db: Database, end: datetime) -> tuple[int, float, int]:
    """(rows, seconds, tracemalloc peak bytes) of a one-row-per-job CSV up to ``end``."""
    query = ReportQuery(("job",), START, end, "range")
    tracemalloc.start()
    started = time.perf_counter()
    lines = 0
    with db.read() as session, open("/dev/null", "w", encoding="utf-8") as sink:
        for line in report_csv(session, query):
            sink.write(line)
            lines += 1
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return lines - 1, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--seed-jobs", type=int, default=100_000)
    args = parser.parse_args()
    if not pg_cluster.available():
        sys.exit("PostgreSQL server binaries not found")
    with tempfile.TemporaryDirectory(), pg_cluster.running_postgres(settings="") as server:
        server.admin("CREATE DATABASE bench_reports")
        url = server.url("bench_reports")
        db = Database.from_url(url)
        upgrade(db.engine)
        started = time.perf_counter()
        generate(db, args.seed_jobs, users=2000)
        replicate(db, args.seed_jobs, args.jobs)
        with db.read() as session:
            count = session.scalar(text("SELECT count(*) FROM holds"))
        print(f"loaded {count} jobs in {time.perf_counter() - started:.0f} s")
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        ranges = (("the month of November", NOVEMBER, END), ("all 3 months", START, END))
        for grouping in ("user", "device"):
            for label, first, after in ranges:
                query = ReportQuery((grouping, "period"), first, after, "month")
                rows: list[object] = []

                def ours(query: ReportQuery = query, rows: list[object] = rows) -> None:
                    with db.read() as session:
                        rows[:] = run(session, query)

                def floor(grouping: str = grouping, first: datetime = first,
                          after: datetime = after) -> None:
                    with psycopg.connect(dsn) as connection:
                        connection.execute(FLOORS[grouping],
                                           {"start": first, "end": after}).fetchall()

                mine, theirs = best_of(3, ours), best_of(3, floor)
                print(f"report by {grouping} and month, {label}: {len(rows)} rows; ours "
                      f"{mine:.3f} s, hand-written SQL (psycopg) {theirs:.3f} s, "
                      f"ratio {mine / theirs:.2f}")
        # The first ~10 % of the jobs by time, then all of them.
        small_end = datetime(2026, 9, 10, tzinfo=UTC)
        for end in (small_end, END):
            rows_out, seconds, peak = csv_peak(db, end)
            print(f"CSV export, one row per job: {rows_out} rows in {seconds:.1f} s, "
                  f"tracemalloc peak {peak / 1e6:.1f} MB")
        db.dispose()


if __name__ == "__main__":
    main()
