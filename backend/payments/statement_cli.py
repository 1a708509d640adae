"""What ``printkiosk payments import-statement`` and ``payments unmatched`` print.

The import reads the whole file first (a regular file, at most 64 MiB), so a refused
file is one line on stderr, exit status 2, and nothing changed; ``--dry-run`` prints
the same lines without writing anything.
"""

from __future__ import annotations

from pathlib import Path

from backend.cli_output import local_time, table
from backend.csv_input import CsvFileRefused, read_limited
from backend.money import fmt
from backend.payments.statement_import import ImportReport, import_statement, unmatched_lines
from backend.payments.statements import StatementRefused
from backend.voucher_cli import Backend, CliRefused

_SAID = {"credited": "credited", "late": "credited (late: after the top-up expired)",
         "duplicate": "already imported", "already_listed": "already listed as unmatched",
         "not_a_credit": "not a payment in (debit, reversal or not booked)"}
_WHY = {"no_reference": "no top-up reference", "unknown_reference": "unknown reference",
        "amount_mismatch": "another amount than the top-up", "already_paid":
        "the top-up was already paid"}


def _describe(report: ImportReport) -> str:
    rows = []
    for outcome in report.outcomes:
        line = outcome.line
        said = (f"unmatched: {_WHY[outcome.reason]}" if outcome.reason is not None
                else _SAID[outcome.result])
        rows.append((line.where, f"{fmt(line.amount)} {line.currency}",
                     outcome.top_up or "-", said))
    return table(("WHERE", "AMOUNT", "TOP-UP", "RESULT"), rows)


def import_file(backend: Backend, path: Path, *, dry_run: bool) -> None:
    try:
        data = read_limited(str(path))
    except (OSError, CsvFileRefused) as exc:
        raise CliRefused(f"{path}: {exc}") from exc
    try:
        report = import_statement(backend.db, data, file_name=path.name,
                                  actor=backend.actor, dry_run=dry_run)
    except StatementRefused as exc:
        raise CliRefused(f"{path}: {exc}") from exc
    if report.outcomes:
        print(_describe(report))
    credited = report.count("credited", "late")
    unmatched = report.count("unmatched")
    print(f"{path.name}: {len(report.outcomes)} lines, {credited} top-ups "
          f"{'would be ' if dry_run else ''}credited, {unmatched} unmatched "
          f"{'would be ' if dry_run else ''}listed for the cash desk"
          + (" (dry run: nothing written)" if dry_run else ""))
    if unmatched and not dry_run:
        print("See them with: printkiosk payments unmatched --config FILE")


def list_unmatched(backend: Backend) -> None:
    with backend.db.read() as session:
        rows = unmatched_lines(session)
        if not rows:
            print("No unmatched statement line.")
            return
        print(table(("BOOKED", "AMOUNT", "WHY", "TOP-UP", "PAYER", "REFERENCE / TEXT",
                     "BANK ID"),
                    [(str(row.booked_on or "-"), f"{fmt(row.amount)} {row.currency}",
                      _WHY.get(row.reason, row.reason), top_up or "-", row.payer or "-",
                      (row.reference or row.remittance or "-")[:40], row.bank_reference)
                     for row, top_up in rows]))
        print(f"{len(rows)} lines; imported from {rows[0][0].file_name} "
              f"({local_time(rows[0][0].imported_at)}) onwards")
