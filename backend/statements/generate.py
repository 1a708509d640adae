"""Generating a client's draft statement for one billing period.

A period is a month from the client's billing day (billing.AccountingPeriods). The
lines come from the plan in force on the period's first day and the period's usage;
for a parent client (seed 002's hierarchy) each member statement issued for a period
ending by then is carried as a ``transfer`` line and marked ``transferred_to`` it.
Generating again recomputes a draft; an issued (or later) statement is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.audit import record
from backend.models import Client, Statement, StatementLine
from backend.statements.errors import StatementError
from backend.statements.plan_store import plan_in_force
from backend.statements.plans import terms_of
from backend.statements.pricing import PricedLine, price_usage, total_of
from backend.statements.usage import client_usage
from billing import AccountingPeriods

CARRIED = ("issued", "overdue")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive: the next period's first day


def period_of(client: Client, day: date) -> Period:
    periods = AccountingPeriods(client.billing_day)
    return Period(periods.start_of(day), periods.next_start(day))


def last_closed_period(client: Client, today: date) -> Period:
    periods = AccountingPeriods(client.billing_day)
    current = periods.start_of(today)
    return period_of(client, date.fromordinal(current.toordinal() - 1))


def generate_draft(session: Session, client: Client, period: Period, *, actor: str,
                   now: datetime, origin: str | None = None) -> Statement:
    """The client's draft for ``period``, created or recomputed."""
    if period_of(client, period.start) != period:
        raise StatementError(f"{period.start} is not the first day of a billing period of "
                             f"{client.code} (day {client.billing_day} of the month)")
    if period.start > now.date():
        raise StatementError(f"the period from {period.start} has not started")
    key = f"{client.id}:{period.start.isoformat()}"
    statement = session.scalar(select(Statement).where(Statement.period_key == key)
                               .with_for_update())
    if statement is not None and statement.status != "draft":
        raise StatementError(f"statement {statement.number} for {client.code} from "
                             f"{period.start} is {statement.status}: its lines are frozen")
    plan = plan_in_force(session, client, period.start)
    terms = terms_of(plan.terms)
    lines = price_usage(terms, client_usage(session, client, period.start, period.end))
    if statement is None:
        statement = _new_statement(session, client, period, key, terms.currency)
    else:
        session.execute(delete(StatementLine).where(StatementLine.statement_id == statement.id))
    lines += _transfers(session, client, statement, period, terms.currency)
    statement.plan_id, statement.currency = plan.id, terms.currency
    statement.total = total_of(lines, terms.currency)
    for position, line in enumerate(lines, start=1):
        session.add(StatementLine(
            statement_id=statement.id, position=position, kind=line.kind,
            description=line.description, quantity=line.quantity,
            unit_price=line.unit_price, amount=_stored(line.amount), details=line.details))
    session.flush()
    record(session, actor, "statement.generated", f"statement:{statement.number}",
           {"client": client.code, "period_start": period.start.isoformat(),
            "total": str(statement.total), "plan": plan.id}, at=now, origin=origin)
    return statement


def _stored(amount: Decimal) -> Decimal:
    """Line amounts are stored to 1/10 000 (the Money column); exact for 4-decimal unit
    prices times whole pages, which is all a plan file accepts."""
    return amount.quantize(Decimal("0.0001"))


def _new_statement(session: Session, client: Client, period: Period, key: str,
                   currency: str) -> Statement:
    base = f"{client.code}-{period.start:%Y%m%d}"
    earlier = session.scalar(select(func.count(Statement.id)).where(
        Statement.client_id == client.id, Statement.period_start == period.start)) or 0
    statement = Statement(number=base if not earlier else f"{base}-{earlier + 1}",
                          client_id=client.id, period_start=period.start,
                          period_end=period.end, period_key=key, status="draft",
                          currency=currency, total=Decimal(0))
    try:
        with session.begin_nested():
            session.add(statement)
            session.flush()
    except IntegrityError as exc:
        raise StatementError(f"a statement for {client.code} from {period.start} is being "
                             "generated at the same moment; try again") from exc
    return statement


def _transfers(session: Session, client: Client, statement: Statement, period: Period,
               currency: str) -> list[PricedLine]:
    members = select(Client.id).where(Client.parent_id == client.id)
    found = session.scalars(select(Statement).where(
        Statement.client_id.in_(members), Statement.status.in_(CARRIED),
        Statement.period_end <= period.end,
        (Statement.transferred_to_id.is_(None)) | (Statement.transferred_to_id == statement.id))
        .order_by(Statement.number).with_for_update()).all()
    lines = []
    for member in found:
        if member.currency != currency:
            raise StatementError(f"statement {member.number} is in {member.currency}, "
                                 f"{client.code}'s plan in {currency}: it cannot be carried")
        owner = session.get(Client, member.client_id)
        member.transferred_to_id = statement.id
        lines.append(PricedLine("transfer", f"Statement {member.number} of "
                                f"{owner.name if owner else '?'}", 1, member.total,
                                member.total, {"statement": member.number,
                                              "client": owner.name if owner else ""}))
    return lines


def generate_for_period(session: Session, day: date, *, actor: str, now: datetime,
                        client_code: str | None = None,
                        origin: str | None = None) -> list[str]:
    """Drafts for the period containing ``day`` of every active client with a plan (or
    of one client); one line of outcome each. A client whose statement for the period
    is already issued, or who has no plan yet, is reported and skipped, not an error."""
    query = select(Client).where(Client.active.is_(True)).order_by(Client.code)
    if client_code is not None:
        query = select(Client).where(Client.code == client_code)
    clients = session.scalars(query).all()
    if client_code is not None and not clients:
        raise StatementError(f"no client with code {client_code!r}")
    # Members before parents, so a parent's draft carries what its members issued.
    clients = sorted(clients, key=lambda c: (c.parent_id is None, c.code))
    outcomes = []
    for client in clients:
        period = period_of(client, day)
        try:
            with session.begin_nested():
                statement = generate_draft(session, client, period, actor=actor, now=now,
                                           origin=origin)
        except StatementError as exc:
            outcomes.append(f"{client.code}: skipped: {exc}")
            continue
        outcomes.append(f"{client.code}: draft {statement.number} "
                        f"{statement.total} {statement.currency}")
    return outcomes
