"""Statement statuses and the transitions allowed between them, each audited.

draft -> issued | cancelled; issued -> paid | overdue | cancelled; overdue -> paid |
cancelled. Paid and cancelled are final. Issuing freezes the lines (generation only
recomputes drafts) and needs the period to be over. A member's statement carried by
its parent's is settled through the parent: it cannot be cancelled on its own, and
it is paid when the parent is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import record
from backend.models import PaymentRequest, Statement
from backend.statements.errors import StatementError

ALLOWED: dict[str, frozenset[str]] = {
    "draft": frozenset({"issued", "cancelled"}),
    "issued": frozenset({"paid", "overdue", "cancelled"}),
    "overdue": frozenset({"paid", "cancelled"}),
    "paid": frozenset(),
    "cancelled": frozenset(),
}
DEFAULT_DUE_DAYS = 30


def find_statement(session: Session, number: str, *, lock: bool = False) -> Statement:
    query = select(Statement).where(Statement.number == number)
    statement = session.scalar(query.with_for_update() if lock else query)
    if statement is None:
        raise StatementError(f"no statement numbered {number!r}")
    return statement


def change(session: Session, statement: Statement, wanted: str, *, actor: str,
           now: datetime, origin: str | None = None,
           due_days: int = DEFAULT_DUE_DAYS) -> Statement:
    """Move ``statement`` to ``wanted`` or raise :class:`StatementError` saying why not."""
    if wanted not in ALLOWED[statement.status]:
        raise StatementError(f"statement {statement.number} is {statement.status}: it cannot "
                             f"become {wanted}")
    if wanted == "issued" and statement.period_end > now.date():
        raise StatementError(f"statement {statement.number}: its period ends on "
                             f"{statement.period_end}; it can be issued from then on")
    if wanted == "cancelled" and statement.transferred_to_id is not None:
        parent = session.get(Statement, statement.transferred_to_id)
        raise StatementError(f"statement {statement.number} is carried by "
                             f"{parent.number if parent else '?'}: cancel that one first")
    before = statement.status
    statement.status = wanted
    if wanted == "issued":
        statement.issued_at = now
        statement.due_date = now.date() + timedelta(days=due_days)
    elif wanted == "paid":
        statement.paid_at = now
    elif wanted == "cancelled":
        statement.cancelled_at = now
        statement.period_key = None
        for request in session.scalars(select(PaymentRequest).where(
                PaymentRequest.statement_id == statement.id, PaymentRequest.status == "open")):
            request.status, request.cancelled_at = "cancelled", now  # no more reminders
    record(session, actor, f"statement.{wanted}", f"statement:{statement.number}",
           {"from": before, "total": str(statement.total)}, at=now, origin=origin)
    for member in carried(session, statement):
        if wanted == "cancelled":
            member.transferred_to_id = None  # back to the member's own responsibility
        elif wanted == "paid" and member.status in ALLOWED and "paid" in ALLOWED[member.status]:
            member.status, member.paid_at = "paid", now
            record(session, actor, "statement.paid", f"statement:{member.number}",
                   {"from": "transferred", "by": statement.number}, at=now, origin=origin)
    session.flush()
    return statement


def carried(session: Session, statement: Statement) -> list[Statement]:
    """The member statements transferred to ``statement`` (seed 002's hierarchy)."""
    return list(session.scalars(select(Statement).where(
        Statement.transferred_to_id == statement.id).order_by(Statement.number)))


def mark_overdue(session: Session, now: datetime, actor: str = "scheduler") -> list[str]:
    """Issued statements whose due date has passed become overdue; their numbers. A
    member's statement carried by its parent's is not: the parent's is what is due."""
    late = session.scalars(select(Statement).where(
        Statement.status == "issued", Statement.due_date < now.date(),
        Statement.transferred_to_id.is_(None)).with_for_update()).all()
    for statement in late:
        change(session, statement, "overdue", actor=actor, now=now)
    return [statement.number for statement in late]
