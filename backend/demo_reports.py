"""A small job history for the demo's usage reports (``/admin/reports``, ``printkiosk
report``): 60 jobs of the demo users over the last 60 days, charged through the real
ledger (authorise, capture, one refund) to the ACME client's codes, so the users' demo
balances stay what the README says. Seeded once: a restarted demo finds it there."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from backend import ledger
from backend.db import Database
from backend.demo import DEMO_TERMINAL_NAME
from backend.models import BillingCode, Hold, LedgerTransaction, Terminal, User, utcnow

JOBS = 60
REF = "demo-report-"
USERS = ("alice", "bob", "carol")
CODES = ("ACME-WEB", "ACME-PRINT")
FUNCTIONS = ("print", "print", "print", "copy", "scan")


def seed_demo_reports(db: Database, currency: str = "EUR") -> None:
    rng = random.Random(19)  # the same history on every machine
    now = utcnow()
    with db.write() as session:
        if session.scalar(select(Hold.id).where(Hold.job_ref == f"{REF}0")) is not None:
            return
        terminal = session.scalar(select(Terminal).where(Terminal.name == DEMO_TERMINAL_NAME))
        users = list(session.scalars(select(User).where(User.username.in_(USERS))))
        codes = list(session.scalars(select(BillingCode).where(BillingCode.code.in_(CODES))))
        if terminal is None or not users or not codes:
            return  # not the demo's database
        for number in range(JOBS):
            user, code = rng.choice(users), rng.choice(codes)
            function = rng.choice(FUNCTIONS)
            pages = rng.randrange(1, 25)
            colour = rng.randrange(0, pages + 1) if rng.random() < 0.3 else 0
            amount = (Decimal("0.00") if function == "scan"
                      else (pages - colour) * Decimal("0.05") + colour * Decimal("0.25"))
            hold = ledger.authorise(session, user, terminal.id, currency, amount,
                                    f"demo job {number}", f"{REF}{number}", code.id, "code")
            sheets = (pages + 1) // 2 if rng.random() < 0.5 else pages
            charge = ledger.capture(
                session, hold.id, terminal.id, currency, amount, "virtual_first",
                {"pages": pages, "colour_pages": colour, "sheets": sheets,
                 "function": function}, (pages - colour, colour))
            when = now - timedelta(days=rng.randrange(1, 60), minutes=rng.randrange(600))
            session.execute(update(Hold).where(Hold.id == hold.id)
                            .values(created_at=when, settled_at=when))
            if charge is not None:
                session.execute(update(LedgerTransaction)
                                .where(LedgerTransaction.id == charge.id)
                                .values(created_at=when))
                if number % 17 == 5:
                    ledger.refund(session, charge, None, "demo: paper jam", actor="demo")
