"""Importing a bank statement: each credit that names a bank_transfer top-up settles it,
every other credit is kept for the cash desk.

A credit line settles a top-up when its structured reference, or an RF reference found
in its free text (spaces and case do not matter), is the top-up's reference and the
amount and currency are the top-up's. Settlement goes through ``topups.settle_top_up``
with the bank's id of the line as event id: importing the same statement again (or the
next day's, which repeats a line) credits nothing twice. A line that names no top-up,
names one with another amount, or pays one already paid is stored in
``unmatched_statement_lines`` (once per bank id) and listed by
``printkiosk payments unmatched``.

The file is parsed completely before the database is opened, and everything is applied
in one write transaction: a bad file, or any error, changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import topups
from backend.audit import record
from backend.db import Database
from backend.models import TopUp, TopUpEvent, UnmatchedStatementLine
from backend.payments.bank_transfer import NAME
from backend.payments.references import find_references, normalize_reference
from backend.payments.statements import StatementLine, parse_statement

Result = Literal["credited", "late", "duplicate", "unmatched", "already_listed", "not_a_credit"]
# Why a credit is left for the cash desk.
Reason = Literal["no_reference", "unknown_reference", "amount_mismatch", "already_paid"]


@dataclass(frozen=True)
class LineOutcome:
    line: StatementLine
    result: Result
    reason: Reason | None = None
    top_up: str | None = None  # the public id of the top-up it names


@dataclass
class ImportReport:
    file_name: str
    dry_run: bool
    outcomes: list[LineOutcome] = field(default_factory=list)

    def count(self, *results: Result) -> int:
        return sum(1 for outcome in self.outcomes if outcome.result in results)


def _candidates(line: StatementLine) -> list[str]:
    """The references the line may mean, the structured one first."""
    structured = normalize_reference(line.reference) if line.reference else None
    found = [structured] if structured else []
    return found + [ref for ref in find_references(f"{line.reference} {line.remittance}")
                    if ref != structured]


def _named_top_up(session: Session, line: StatementLine) -> tuple[TopUp | None, str]:
    """The top-up the line names and the reference that names it (or the first reference
    seen, "" when none)."""
    candidates = _candidates(line)
    for reference in candidates:
        top_up = topups.find_by_payment(session, NAME, reference)
        if top_up is not None:
            return top_up, reference
    return None, candidates[0] if candidates else ""


def _predicted(session: Session, line: StatementLine, top_up: TopUp) -> LineOutcome:
    """What settling would do, read only (``--dry-run``), in settle_top_up's order."""
    seen = session.scalar(select(TopUpEvent.id).where(
        TopUpEvent.gateway == NAME, TopUpEvent.event_id == line.bank_reference))
    if seen is not None:
        return LineOutcome(line, "duplicate", top_up=top_up.public_id)
    if top_up.status not in topups.UNPAID:
        return LineOutcome(line, "unmatched", "already_paid", top_up.public_id)
    if (line.amount, line.currency) != (top_up.amount, top_up.currency):
        return LineOutcome(line, "unmatched", "amount_mismatch", top_up.public_id)
    return LineOutcome(line, "late" if top_up.status != "pending" else "credited",
                       top_up=top_up.public_id)


def _settled(session: Session, line: StatementLine, top_up: TopUp,
             reference: str) -> LineOutcome:
    outcome = topups.settle_top_up(session, top_up, amount=line.amount,
                                   currency=line.currency, gateway_payment_id=reference,
                                   event_id=line.bank_reference, source="statement")
    public_id = top_up.public_id
    if outcome.result == "credited":
        return LineOutcome(line, "late" if outcome.late else "credited", top_up=public_id)
    if outcome.result == "duplicate":
        return LineOutcome(line, "duplicate", top_up=public_id)
    reason: Reason = "amount_mismatch" if outcome.result == "mismatch" else "already_paid"
    return LineOutcome(line, "unmatched", reason, public_id)


def _apply(session: Session, line: StatementLine, *, dry_run: bool) -> LineOutcome:
    if not line.is_payment_in:
        return LineOutcome(line, "not_a_credit")
    listed = session.scalar(select(UnmatchedStatementLine.id).where(
        UnmatchedStatementLine.bank_reference == line.bank_reference))
    if listed is not None:
        return LineOutcome(line, "already_listed")
    top_up, reference = _named_top_up(session, line)
    if top_up is None:
        return LineOutcome(line, "unmatched",
                           "unknown_reference" if reference else "no_reference")
    return (_predicted(session, line, top_up) if dry_run
            else _settled(session, line, top_up, reference))


def _keep_unmatched(session: Session, outcome: LineOutcome, file_name: str,
                    actor: str) -> None:
    line = outcome.line
    top_up = topups.find(session, outcome.top_up) if outcome.top_up else None
    assert outcome.reason is not None
    session.add(UnmatchedStatementLine(
        bank_reference=line.bank_reference, reason=outcome.reason,
        top_up_id=None if top_up is None else top_up.id, booked_on=line.booked_on,
        amount=line.amount, currency=line.currency, reference=line.reference[:64],
        remittance=line.remittance, payer=line.payer[:255], file_name=file_name[:255],
        imported_by=actor[:100]))
    session.flush()


def import_statement(db: Database, data: bytes, *, file_name: str, actor: str,
                     dry_run: bool = False) -> ImportReport:
    """Parse, then match and apply in one transaction (``dry_run``: read only, nothing
    written). Raises ``StatementRefused`` for a file that is not a statement."""
    lines = parse_statement(data)
    report = ImportReport(file_name, dry_run)
    with db.read() if dry_run else db.write() as session:
        for line in lines:
            outcome = _apply(session, line, dry_run=dry_run)
            report.outcomes.append(outcome)
            if outcome.result == "unmatched" and not dry_run:
                _keep_unmatched(session, outcome, file_name, actor)
        if not dry_run:
            record(session, actor, "payments.statement_import", file_name, {
                "lines": len(lines), "credited": report.count("credited", "late"),
                "unmatched": report.count("unmatched"),
                "duplicates": report.count("duplicate", "already_listed")})
    return report


def unmatched_lines(session: Session) -> list[tuple[UnmatchedStatementLine, str | None]]:
    """Every unmatched line, oldest first, with the public id of the top-up it names."""
    rows = session.execute(
        select(UnmatchedStatementLine, TopUp.public_id)
        .outerjoin(TopUp, TopUp.id == UnmatchedStatementLine.top_up_id)
        .order_by(UnmatchedStatementLine.imported_at, UnmatchedStatementLine.id))
    return [(row[0], row[1]) for row in rows]
