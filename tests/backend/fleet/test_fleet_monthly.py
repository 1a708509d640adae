"""A month of the fleet: volumes per device, site and client from the meters, and the
pages the meters counted that no captured job accounts for (resets included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from backend_fixtures import Backend
from sqlalchemy import select

from backend.db import Database
from backend.fleet import registry
from backend.fleet.monthly import Pages, fleet_month, month_of, previous_month, unattributed
from backend.models import Device, MeterReading, Terminal, utcnow


def _meter(db: Database, device_id: int, at: datetime, **counters: int) -> None:
    with db.write() as session:
        session.add_all(MeterReading(device_id=device_id, read_at=at, counter=name,
                                     value=value) for name, value in counters.items())


def _print(backend: Backend, key: str, pages: int) -> None:
    """A job of ``pages`` sides released at the demo kiosk and captured (the job log)."""
    held = backend.client.post("/api/v1/holds", headers=backend.headers(user="bob"), json={
        "idempotency_key": f"fleet-hold-{key}", "username": "bob", "amount": "0.50"})
    assert held.status_code in (200, 201), held.text
    done = backend.client.post(f"/api/v1/holds/{held.json()['hold_id']}/capture",
                               headers=backend.headers(),
                               json={"idempotency_key": f"fleet-capture-{key}", "amount": "0.10",
                                     "pages": pages})
    assert done.status_code == 200, done.text


def test_months_are_local_calendar_months() -> None:
    month = month_of(datetime(2026, 3, 1, 0, 30, tzinfo=UTC), "Europe/Paris")
    assert month.start == datetime(2026, 2, 28, 23, tzinfo=UTC)   # CET midnight
    assert month.end == datetime(2026, 3, 31, 22, tzinfo=UTC)     # CEST from the 29th
    assert previous_month(month, "Europe/Paris").start == datetime(2026, 1, 31, 23,
                                                                   tzinfo=UTC)


def test_unattributed_pages_are_the_meter_minus_the_job_log_across_a_reset(
        backend: Backend, db: Database) -> None:
    month = month_of(utcnow())
    with db.write() as session:
        terminal = session.scalars(select(Terminal)).one()
        terminal.device = "LIB-MFP-1"
        registry.create_client(session, "UNI", "Demo University", 5, actor="test")
        registry.create_site(session, "UNI", "LIB", "Library", actor="test")
        registry.create_site(session, "UNI", "SCI", "Science building", actor="test")
        for code in ("LIB-MFP-1", "LIB-MFP-2", "SCI-MFP-1"):
            session.add(Device(code=code, name=code))
        session.flush()
        registry.place_device(session, "LIB-MFP-1", "LIB", actor="test")
        registry.place_device(session, "LIB-MFP-2", "LIB", actor="test")
        registry.place_device(session, "SCI-MFP-1", "SCI", actor="test")
        ids = dict(session.execute(select(Device.code, Device.id)).tuples().all())
    before, day = month.start - timedelta(hours=1), timedelta(minutes=30)
    _meter(db, ids["LIB-MFP-1"], before, total=10_000, total_mono=8_000, total_colour=2_000)
    _meter(db, ids["LIB-MFP-1"], month.start + day, total=10_040, total_mono=8_030,
           total_colour=2_010)                                 # +40: 30 mono, 10 colour
    _meter(db, ids["LIB-MFP-1"], month.start + 2 * day, total=25, total_mono=20,
           total_colour=5)                                     # reset: +25
    _meter(db, ids["LIB-MFP-1"], month.start + 3 * day, total=60, total_mono=45,
           total_colour=15)                                    # +35
    _meter(db, ids["LIB-MFP-2"], before, total=500, scan_total=100)
    _meter(db, ids["LIB-MFP-2"], month.start + day, total=530, scan_total=160)
    _meter(db, ids["SCI-MFP-1"], month.start + day, total=7)   # first reading: a baseline
    for key, pages in (("a", 30), ("b", 12), ("c", 8)):
        _print(backend, key, pages)
    with db.read() as session:
        rows = {row.device_id: row for row in unattributed(session, month.start, month.end)}
        volumes = fleet_month(session, month)
        site_ids = dict(session.execute(select(Device.code, Device.site_id)).tuples().all())
        client_id = session.scalar(select(registry.Client.id).where(
            registry.Client.code == "UNI"))
    library = rows[ids["LIB-MFP-1"]]
    assert (library.counter, library.metered, library.logged) == ("total", 100, 50)
    assert library.pages == 50 and library.percent == Decimal("50.0")
    other = rows[ids["LIB-MFP-2"]]                 # no kiosk: nothing is accounted for
    assert (other.metered, other.logged, other.percent) == (30, 0, Decimal("100.0"))
    assert rows[ids["SCI-MFP-1"]].metered == 0 and rows[ids["SCI-MFP-1"]].percent is None
    assert volumes.devices[ids["LIB-MFP-1"]] == Pages(mono=75, colour=25, scan=0, total=100)
    assert volumes.sites[site_ids["LIB-MFP-1"]] == Pages(mono=75, colour=25, scan=60,
                                                         total=130)
    assert volumes.sites[site_ids["SCI-MFP-1"]] == Pages()
    assert volumes.clients[client_id] == Pages(mono=75, colour=25, scan=60, total=130)
    with db.read() as session:
        last = fleet_month(session, previous_month(month))
    # Last month held only the first readings ever: baselines, no pages.
    assert all(last.devices.get(ids[code], Pages()) == Pages()
               for code in ("LIB-MFP-1", "LIB-MFP-2", "SCI-MFP-1"))


def test_the_registry_refuses_duplicates_unknown_sites_and_bad_billing_days(
        db: Database) -> None:
    from backend.app import prepare_database
    from backend.models import AuditEntry

    prepare_database(db, "EUR")
    with db.write() as session:
        registry.create_client(session, "UNI", "Demo University", actor="test")
        session.add(Device(code="MFP-1", name="MFP-1"))
    refusals = [
        (lambda s: registry.create_client(s, "UNI", "Again", actor="t"), "code_taken"),
        (lambda s: registry.create_client(s, "NEW", "New", 29, actor="t"),
         "billing_day_range"),
        (lambda s: registry.create_client(s, "NEW", "New", "0", actor="t"),
         "billing_day_range"),
        (lambda s: registry.create_client(s, "a b", "New", actor="t"), "code_invalid"),
        (lambda s: registry.create_site(s, "NOPE", "LIB", "Library", actor="t"),
         "client_unknown"),
        (lambda s: registry.place_device(s, "MFP-1", "NOWHERE", actor="t"), "site_unknown"),
        (lambda s: registry.edit_client(s, "UNI", day="31", actor="t"),
         "billing_day_range"),
    ]
    for change, code in refusals:
        try:
            with db.write() as session:
                change(session)
        except registry.FleetRefused as refused:
            assert refused.code == code
        else:
            raise AssertionError(f"accepted, expected {code}")
    with db.write() as session:
        registry.create_site(session, "UNI", "LIB", "Library", actor="test")
        registry.place_device(session, "MFP-1", "LIB", actor="test")
        registry.edit_device(session, "MFP-1", model="HP LaserJet M607", serial="CNB1",
                             actor="test")
        registry.create_site(session, "UNI", "LIB2", "Annex", actor="test")
    try:
        with db.write() as session:
            registry.create_site(session, "UNI", "LIB", "Twice", actor="t")
    except registry.FleetRefused as refused:
        assert refused.code == "code_taken"
    with db.read() as session:
        device = session.scalars(select(Device)).one()
        actions = list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("fleet.%")).order_by(AuditEntry.id)))
        client = session.scalars(select(registry.Client)).one()
    assert (device.model, device.serial, client.billing_day) == ("HP LaserJet M607", "CNB1", 1)
    assert actions == ["fleet.client.create", "fleet.site.create", "fleet.device.place",
                       "fleet.device.edit", "fleet.site.create"]
