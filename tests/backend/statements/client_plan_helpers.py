"""Clients, devices, readings, jobs and plans for statement tests, written as rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from backend.app import prepare_database
from backend.db import Database
from backend.models import (
    BillingCode,
    Client,
    Device,
    Hold,
    MeterReading,
    Site,
    Terminal,
    User,
)
from backend.statements.plan_store import store_plan

SEED_TIERS = """
[plan]
name = "Seed 001 tiers"
currency = "EUR"
effective_from = {start}
type = "tiered"

[[tiered.mono]]
from = 1
price = "10"
[[tiered.mono]]
from = 101
price = "8"
[[tiered.mono]]
from = 1001
price = "6"
[[tiered.mono]]
from = 10001
price = "4"

[[tiered.colour]]
from = 1
price = "12"
[[tiered.colour]]
from = 101
price = "10.5"
[[tiered.colour]]
from = 1001
price = "7.75"
[[tiered.colour]]
from = 10001
price = "5.20"
"""


def simple_plan(start: date, mono: str = "0.05", colour: str = "0.25", fee: str = "0",
                included_mono: int = 0) -> str:
    return (f'[plan]\nname = "Simple {mono}"\ncurrency = "EUR"\neffective_from = {start}\n'
            f'type = "simple"\n\n[simple]\nmono = "{mono}"\ncolour = "{colour}"\n'
            f'scan = "0.01"\nmonthly_fee = "{fee}"\nincluded_mono = {included_mono}\n')


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def migrated(db: Database) -> Database:
    prepare_database(db, "EUR")
    return db


def make_client(db: Database, code: str, *, parent: str | None = None,
                billing_code: str | None = None, billing_day: int = 1,
                email: str | None = None, language: str = "en") -> int:
    with db.write() as session:
        parent_id = None
        if parent is not None:
            parent_id = session.scalar(select(Client.id).where(Client.code == parent))
        code_id = None
        if billing_code is not None:
            row = BillingCode(code=billing_code, name=billing_code, active=True)
            session.add(row)
            session.flush()
            code_id = row.id
        client = Client(code=code, name=f"{code} Ltd", parent_id=parent_id,
                        billing_code_id=code_id, billing_day=billing_day, email=email,
                        language=language)
        session.add(client)
        session.flush()
        return client.id


def add_plan(db: Database, code: str, text: str, today: date) -> None:
    with db.write() as session:
        client = session.scalar(select(Client).where(Client.code == code))
        assert client is not None
        store_plan(session, client, text, "plan.toml", actor="test", today=today)


def add_device(db: Database, client_code: str, device_code: str, model: str) -> int:
    with db.write() as session:
        client = session.scalar(select(Client).where(Client.code == client_code))
        assert client is not None
        site = Site(client_id=client.id, code=f"{device_code}-site", name="Head office")
        session.add(site)
        session.flush()
        device = Device(code=device_code, name=device_code, model=model, site_id=site.id)
        session.add(device)
        session.flush()
        return device.id


def read_counters(db: Database, device_id: int, when: datetime, **values: int) -> None:
    with db.write() as session:
        for counter, value in values.items():
            session.add(MeterReading(device_id=device_id, read_at=when, counter=counter,
                                     value=value))


def captured_job(db: Database, billing_code: str, when: datetime, mono: int,
                 colour: int) -> None:
    """A job released and captured, charged to ``billing_code`` (payer: the code)."""
    with db.write() as session:
        code = session.scalar(select(BillingCode).where(BillingCode.code == billing_code))
        assert code is not None
        user = session.scalar(select(User).where(User.username == "statement-user"))
        if user is None:
            user = User(username="statement-user", display_name="Statement User")
            session.add(user)
        terminal = session.scalar(select(Terminal).where(Terminal.name == "stmt-kiosk"))
        if terminal is None:
            terminal = Terminal(name="stmt-kiosk", token_hash="s" * 64, device="MFP-1")
            session.add(terminal)
        session.flush()
        session.add(Hold(user_id=user.id, terminal_id=terminal.id, amount=Decimal("0"),
                         captured_amount=Decimal("0"), status="captured", payer="code",
                         billing_code_id=code.id, mono_sides=mono, colour_sides=colour,
                         created_at=when, settled_at=when))
