"""A synthetic job history for the report tests and the benchmark: users in groups and
cost centres with cards, 3 clients with 2 sites each, 20 devices, billing codes (3
clients x 3 projects), captured print/copy/scan jobs with their charge transactions,
partial and full refunds, and 3D jobs, spread over 3 months from 2026-09-01.

Rows go in with bulk inserts (one INSERT per chunk), so 50 000 jobs take seconds on
SQLite and PostgreSQL, and a million a few minutes. ``Expected`` is what was generated,
summed in Python as it was generated: the tests compare the SQL reports with it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from backend import ledger
from backend.db import Database
from backend.models import (
    Account,
    AccountKind,
    BillingCode,
    Card,
    Client,
    CostCentre,
    Device,
    Group,
    Hold,
    LedgerEntry,
    LedgerTransaction,
    Print3DJob,
    Site,
    Terminal,
    User,
    UserGroup,
)

START = datetime(2026, 9, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
MONO, COLOUR = Decimal("0.05"), Decimal("0.15")
CURRENCY = "EUR"
CHUNK = 5000


@dataclass
class Expected:
    """Totals of the generated history, by month and by device and overall."""

    jobs: int = 0
    pages_mono: int = 0
    pages_colour: int = 0
    sheets: int = 0
    charged: Decimal = Decimal("0")
    refunded: Decimal = Decimal("0")
    grams: Decimal = Decimal("0")
    minutes: int = 0
    charged_by_month: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    jobs_by_device: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    jobs_by_function: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    user_ids: list[int] = field(default_factory=list)


def _ids_after(session: Session, column: object) -> int:
    return int(session.scalar(select(func.coalesce(func.max(column), 0))) or 0)  # type: ignore[call-overload]


def _people(session: Session, rng: random.Random, users: int, prefix: str) -> list[int]:
    centres = [CostCentre(code=f"{prefix}CC{n}", name=f"Cost centre {n}") for n in range(4)]
    groups = [Group(name=f"{prefix}group-{n}") for n in range(5)]
    session.add_all(centres + groups)
    session.flush()
    first = _ids_after(session, User.id) + 1
    session.execute(insert(User), [
        {"id": first + n, "username": f"{prefix}user{n:05d}", "display_name": f"User {n}",
         "cost_centre_id": None if n % 7 == 0 else centres[n % 4].id,
         "created_at": START, "language": "en", "status": "active",
         "overdraft_limit": Decimal("0")}
        for n in range(users)])
    ids = list(range(first, first + users))
    memberships = []
    for n, user_id in enumerate(ids):
        chosen = rng.sample(groups, 1 + (n % 3 == 0))  # a third are in two groups
        memberships += [{"user_id": user_id, "group_id": g.id} for g in chosen]
    session.execute(insert(UserGroup), memberships)
    session.execute(insert(Card), [
        {"user_id": user_id, "card_hash": f"{prefix}{user_id:032x}{k}",
         "label": f"card-{user_id}-{k}", "created_at": START}
        for user_id in ids for k in range(1 + (user_id % 10 == 0))])
    session.execute(insert(Account), [
        {"key": ledger.account_key(AccountKind.USER_PERSONAL, CURRENCY, user_id),
         "kind": AccountKind.USER_PERSONAL, "currency": CURRENCY, "user_id": user_id,
         "balance": Decimal("0")} for user_id in ids])
    return ids


def _fleet(session: Session, prefix: str) -> list[str]:
    """20 terminals, each beside one device of one of 6 sites of 3 clients."""
    sites = []
    for c in range(3):
        client = Client(code=f"{prefix}CLIENT{c}", name=f"Client {c}")
        session.add(client)
        session.flush()
        for s in range(2):
            site = Site(client_id=client.id, code=f"{prefix}SITE{c}{s}", name=f"Site {c}.{s}")
            session.add(site)
            sites.append(site)
    session.flush()
    terminal_ids = []
    for d in range(20):
        code = f"{prefix}PRN{d:02d}"
        session.add(Device(code=code, name=f"Printer {d}", model=f"Model {d % 4}",
                           site_id=sites[d % len(sites)].id))
        terminal = Terminal(name=f"kiosk {code}", token_hash=f"{prefix}{d:060d}", device=code,
                            state="connected")
        session.add(terminal)
        session.flush()
        terminal_ids.append(terminal.id)
    return terminal_ids


def _codes(session: Session, prefix: str) -> list[int]:
    projects = []
    for c in range(3):
        client = BillingCode(code=f"{prefix}BC{c}", name=f"Billing client {c}")
        session.add(client)
        session.flush()
        for p in range(3):
            project = BillingCode(code=f"{prefix}BC{c}-P{p}", name=f"Project {p}",
                                  parent_id=client.id)
            session.add(project)
            projects.append(project)
    session.flush()
    return [project.id for project in projects]


def generate(db: Database, jobs: int, *, users: int = 300, seed: int = 19,
             prefix: str = "g") -> Expected:
    """Insert ``jobs`` settled jobs (and their ledger) and return what was inserted."""
    rng = random.Random(seed)
    expected = Expected()
    with db.write() as session:
        revenue = ledger.get_account(session, AccountKind.REVENUE, CURRENCY)
        user_ids = _people(session, rng, users, prefix)
        expected.user_ids = user_ids
        terminals = _fleet(session, prefix)
        devices = {t: f"{prefix}PRN{n:02d}" for n, t in enumerate(terminals)}
        projects = _codes(session, prefix)
        accounts = dict(session.execute(
            select(Account.user_id, Account.id)
            .where(Account.user_id.in_(user_ids), Account.kind == AccountKind.USER_PERSONAL)
        ).tuples().all())
        revenue_id = revenue.id
    next_txn = [0]
    next_entry = [0]
    with db.read() as session:
        next_txn[0] = _ids_after(session, LedgerTransaction.id)
        next_entry[0] = _ids_after(session, LedgerEntry.id)
    span = int((END - START).total_seconds())
    for chunk_start in range(0, jobs, CHUNK):
        holds, charges, entries, print3d = [], [], [], []
        for n in range(chunk_start, min(jobs, chunk_start + CHUNK)):
            user_id = rng.choice(user_ids)
            terminal = rng.choice(terminals)
            settled = START + timedelta(seconds=rng.randrange(span))
            function = rng.choices(("print", "copy", "scan", "3d"), (70, 15, 7, 8))[0]
            hold_id = f"{prefix}{n:011d}"
            code = rng.choice(projects) if rng.random() < 0.3 else None
            details: dict[str, object] | None
            if function == "3d":
                mono = colour = 0
                grams = Decimal(rng.randrange(50, 50000)) / 100
                minutes = rng.randrange(10, 600)
                amount = (grams * Decimal("0.08") + Decimal(minutes) / 60).quantize(Decimal("0.01"))
                details = None
                expected.grams += grams
                expected.minutes += minutes
                print3d.append({
                    "user_id": user_id, "group_name": "default", "name": f"part{n}.gcode",
                    "stored_name": f"{n}.gcode", "sha256": "0" * 64, "size_bytes": 1000,
                    "format": "gcode", "grams": str(grams), "metres": "1", "minutes": minutes,
                    "grams_source": "slicer", "time_source": "slicer", "diameter_mm": "1.75",
                    "density_g_cm3": "1.24", "ours": {}, "slicer": {}, "flags": [],
                    "price_list": "default", "price": amount, "hold_amount": amount,
                    "currency": CURRENCY, "status": "completed", "hold_id": hold_id,
                    "terminal_id": terminal, "uploaded_by": "gen", "uploaded_at": settled,
                    "outcome": "completed", "charged_grams": str(grams),
                    "charged_minutes": minutes, "charged": amount, "settled_at": settled})
            else:
                pages = rng.randrange(1, 40)
                colour = rng.randrange(0, pages + 1) if rng.random() < 0.3 else 0
                mono = pages - colour
                amount = mono * MONO + colour * COLOUR if function != "scan" else Decimal("0.00")
                sheets = None if rng.random() < 0.2 else (
                    (pages + 1) // 2 if rng.random() < 0.4 else pages)
                details = {"pages": pages, "colour_pages": colour, "function": function}
                if sheets is not None:
                    details["sheets"] = sheets
                    expected.sheets += sheets
            holds.append({
                "id": hold_id, "user_id": user_id, "terminal_id": terminal, "amount": amount,
                "captured_amount": amount, "status": "captured", "description": f"job {n}",
                "billing_code_id": code, "payer": "user", "offline": False,
                "mono_sides": mono, "colour_sides": colour, "details": details,
                "created_at": settled - timedelta(minutes=1), "settled_at": settled})
            expected.jobs += 1
            expected.pages_mono += mono
            expected.pages_colour += colour
            expected.charged += amount
            expected.charged_by_month[settled.strftime("%Y-%m")] += amount
            expected.jobs_by_device[devices[terminal]] += 1
            expected.jobs_by_function[function] += 1
            if amount == 0:
                continue
            next_txn[0] += 1
            charge_id = next_txn[0]
            charges.append({"id": charge_id, "kind": "charge", "description": f"job {n}",
                            "user_id": user_id, "terminal_id": terminal, "hold_id": hold_id,
                            "billing_code_id": code, "created_at": settled,
                            "refund_of_id": None, "reason": None, "actor": None})
            entries += _pair(next_entry, charge_id, accounts[user_id], revenue_id, amount)
            if rng.random() < 0.05:
                refund = amount if rng.random() < 0.5 else (amount / 2).quantize(Decimal("0.01"))
                if refund > 0:
                    next_txn[0] += 1
                    charges.append({"id": next_txn[0], "kind": "refund",
                                    "description": f"refund of job {n}", "user_id": user_id,
                                    "terminal_id": None, "hold_id": hold_id,
                                    "billing_code_id": None, "refund_of_id": charge_id,
                                    "reason": "jam", "actor": "gen",
                                    "created_at": settled + timedelta(hours=1)})
                    entries += _pair(next_entry, next_txn[0], revenue_id, accounts[user_id],
                                     refund)
                    expected.refunded += refund
        with db.write() as session:
            session.execute(insert(Hold), holds)
            if print3d:
                session.execute(insert(Print3DJob), print3d)
            if charges:
                session.execute(insert(LedgerTransaction), charges)
                session.execute(insert(LedgerEntry), entries)
    with db.write() as session:
        _refresh_balances(session, [*accounts.values(), revenue_id])
    return expected


def _pair(counter: list[int], txn: int, debit: int, credit: int,
          amount: Decimal) -> list[dict[str, object]]:
    counter[0] += 2
    return [{"id": counter[0] - 1, "transaction_id": txn, "account_id": debit, "amount": -amount},
            {"id": counter[0], "transaction_id": txn, "account_id": credit, "amount": amount}]


def _refresh_balances(session: Session, account_ids: list[int]) -> None:
    """Cached balances = the entries (the ledger invariant), and PostgreSQL's id
    sequences moved past the ids given explicitly."""
    entries = (select(func.coalesce(func.sum(LedgerEntry.amount), 0))
               .where(LedgerEntry.account_id == Account.id).scalar_subquery())
    session.execute(update(Account).where(Account.id.in_(account_ids))
                    .values(balance=entries).execution_options(synchronize_session=False))
    if session.get_bind().dialect.name == "postgresql":
        # Fresh statistics, as autovacuum would gather after a bulk load: without them
        # the planner takes the new tables for empty and nests loops over them.
        session.execute(text("ANALYZE"))
        for table in ("ledger_transactions", "ledger_entries", "users"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT max(id) FROM {table}))"))
