"""Every example plan under config/plans loads (ARCHITECTURE rule 6), and the consumable
type counts a supply replaced when its level jumps, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from client_plan_helpers import add_device, add_plan, at, make_client, migrated
from sqlalchemy import select

from backend.db import Database
from backend.models import Client, SupplyReading
from backend.statements.generate import Period, generate_draft
from backend.statements.plans import BillingType, load_plan
from backend.statements.pricing import Usage, price_usage, total_of

PLANS = sorted((Path(__file__).resolve().parents[3] / "config" / "plans").glob("*.toml"))


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_every_example_plan_loads(path: Path) -> None:
    load_plan(path.read_text(encoding="utf-8"), str(path))


def test_the_examples_cover_the_four_types_and_the_seed_example() -> None:
    kinds = {load_plan(p.read_text(encoding="utf-8"), str(p)).billing_type for p in PLANS}
    assert kinds == set(BillingType)
    seed = next(p for p in PLANS if p.name == "seed-001-tiered.toml")
    lines = price_usage(load_plan(seed.read_text(encoding="utf-8"), str(seed)),
                        Usage(code_mono=13207, code_colour=11216))
    assert total_of(lines, "EUR") == Decimal("161751.20")


def test_a_replaced_supply_is_charged_once(db: Database) -> None:
    migrated(db)
    make_client(db, "INK")
    start = date(2026, 10, 1)
    add_plan(db, "INK", '[plan]\nname = "ink"\ncurrency = "EUR"\n'
             f'effective_from = {start}\ntype = "consumable"\n\n'
             '[[consumable.supplies]]\nsupply = "Black Toner"\nprice = "89.00"\n', start)
    device = add_device(db, "INK", "MFP-INK", "HP LaserJet M607")
    levels = [(date(2026, 9, 30), 12), (date(2026, 10, 2), 100),  # replaced: counts
              (date(2026, 10, 10), 60), (date(2026, 10, 20), 75),  # +15: a reading wobble
              (date(2026, 10, 28), 5), (date(2026, 11, 1), 100)]   # next period's
    with db.write() as session:
        for day, level in levels:
            session.add(SupplyReading(device_id=device, read_at=at(day), supply="Black Toner",
                                      level_percent=level))
    with db.write() as session:
        client = session.scalar(select(Client).where(Client.code == "INK"))
        assert client is not None
        statement = generate_draft(session, client, Period(start, date(2026, 11, 1)),
                                   actor="test", now=at(date(2026, 11, 2)))
        assert statement.total == Decimal("89.00")
