"""The demo's client statement (issue 19): the client "ACME Corp" on the demo billing
code ACME (its projects ACME-WEB and ACME-PRINT count too), a simple plan uploaded at
the start of last month, and last month's draft statement, to issue, print as PDF and
send for payment from ``/admin/statements``. Idempotent like ``seed_demo``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import BillingCode, Client, utcnow
from backend.statements.generate import generate_draft, last_closed_period
from backend.statements.plan_store import store_plan

DEMO_CLIENT = "ACME"
DEMO_PLAN = """[plan]
name = "ACME Corp office printing"
currency = "{currency}"
effective_from = {start}
type = "simple"

[simple]
monthly_fee = "25.00"
included_mono = 500
mono = "0.05"
colour = "0.25"
scan = "0.01"
"""


def seed_demo_statements(session: Session, currency: str) -> None:
    if session.scalar(select(Client.id).where(Client.code == DEMO_CLIENT)) is not None:
        return
    code_id = session.scalar(select(BillingCode.id).where(BillingCode.code == "ACME"))
    client = Client(code=DEMO_CLIENT, name="ACME Corp", billing_code_id=code_id,
                    email="accounts@acme.example", language="en", billing_day=1)
    session.add(client)
    session.flush()
    now = utcnow()
    period = last_closed_period(client, now.date())
    # As uploaded on the first day of last month, when that month was the current one.
    store_plan(session, client, DEMO_PLAN.format(currency=currency, start=period.start),
               "demo-acme-plan.toml", actor="demo", today=period.start)
    generate_draft(session, client, period, actor="demo", now=now)
