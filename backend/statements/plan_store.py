"""Storing a client's plan versions, and finding the one in force for a period.

Seed 001: "toute modification de ces prix prend effet à partir du début de la période
comptable en cours. Les périodes de facturation précédentes ne seront pas affectées."
A version must start on the first day of a billing period (the client's billing day),
no earlier than the current one; a version already stored for that day is replaced
only while no live statement used it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import record
from backend.models import Client, ClientPlan, Statement
from backend.statements.errors import StatementError
from backend.statements.plans import load_plan, terms_json
from billing import AccountingPeriods


def find_client(session: Session, code: str) -> Client:
    client = session.scalar(select(Client).where(Client.code == code))
    if client is None:
        raise StatementError(f"no client with code {code!r}")
    return client


def store_plan(session: Session, client: Client, text: str, filename: str, *, actor: str,
               today: date, origin: str | None = None) -> ClientPlan:
    """Validate ``text`` (billing.ConfigError on a bad file) and store it as a version."""
    terms = load_plan(text, filename)
    periods = AccountingPeriods(client.billing_day)
    current = periods.start_of(today)
    where = f"{filename}: plan.effective_from"
    if periods.start_of(terms.effective_from) != terms.effective_from:
        raise StatementError(f"{where}: {terms.effective_from} is not the first day of a "
                             f"billing period of {client.code} (day {client.billing_day} "
                             "of the month)")
    if terms.effective_from < current:
        raise StatementError(f"{where}: {terms.effective_from} is before the current period "
                             f"(from {current}); earlier periods are never re-priced")
    plan = session.scalar(select(ClientPlan).where(
        ClientPlan.client_id == client.id, ClientPlan.effective_from == terms.effective_from))
    if plan is not None and session.scalar(select(Statement.id).where(
            Statement.plan_id == plan.id, Statement.status != "draft",
            Statement.status != "cancelled")) is not None:
        raise StatementError(f"{where}: the version from {terms.effective_from} priced an "
                             "issued statement; it cannot be replaced")
    if plan is None:
        plan = ClientPlan(client_id=client.id, effective_from=terms.effective_from)
        session.add(plan)
    plan.name, plan.billing_type = terms.name, terms.billing_type.value
    plan.currency, plan.terms = terms.currency, terms_json(terms)
    plan.source, plan.uploaded_by = text, actor
    session.flush()
    record(session, actor, "statement.plan_uploaded", f"client:{client.code}",
           {"plan": plan.id, "name": terms.name, "type": terms.billing_type.value,
            "effective_from": terms.effective_from.isoformat()}, origin=origin)
    return plan


def plan_in_force(session: Session, client: Client, period_start: date) -> ClientPlan:
    plan = session.scalar(select(ClientPlan).where(
        ClientPlan.client_id == client.id, ClientPlan.effective_from <= period_start)
        .order_by(ClientPlan.effective_from.desc()).limit(1))
    if plan is None:
        raise StatementError(f"client {client.code} has no plan in force on {period_start}")
    return plan
