"""Monthly volumes from page counters: resets and a replaced device lose no page, and the
kiosk's counters events become readings of the device it stands beside."""

from __future__ import annotations

from datetime import UTC, datetime

from backend_fixtures import Backend
from sqlalchemy import select

from backend.db import Database
from backend.fleet.volumes import Reading, device_volumes, pages_between
from backend.models import Device, MeterReading, SupplyReading, Terminal


def _at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 8, tzinfo=UTC)


def test_a_counter_reset_mid_month_counts_the_pages_before_and_after_it() -> None:
    baseline = Reading(_at(31, 10), 10_000)
    readings = [Reading(_at(5), 10_400), Reading(_at(14), 10_900),  # +400, +500
                Reading(_at(15), 120),                               # reset: +120
                Reading(_at(30), 700)]                               # +580
    assert pages_between(baseline, readings) == 400 + 500 + 120 + 580


def test_a_replaced_device_restarts_from_its_own_counter() -> None:
    readings = [Reading(_at(2), 50_000, "SN-OLD"), Reading(_at(10), 50_300, "SN-OLD"),
                Reading(_at(11), 90_000, "SN-NEW"),  # bigger, yet another machine
                Reading(_at(20), 90_250, "SN-NEW")]
    assert pages_between(None, readings) == 300 + 90_000 + 250


def _counters(key: str, at: str, total: int, mono: int) -> dict[str, object]:
    return {"idempotency_key": key, "kind": "counters", "occurred_at": at,
            "payload": {"counters": {"total": total, "hp:total_mono": mono}}}


def test_counters_events_become_readings_of_the_kiosks_device(backend: Backend,
                                                              db: Database) -> None:
    with db.write() as session:
        terminal = session.scalars(select(Terminal)).first()
        assert terminal is not None
        terminal.device, terminal.device_model = "LIB-MFP-1", "HP LaserJet M607"
    events = [_counters("counter-1", "2026-10-31T23:00:00Z", 1000, 800),
              _counters("counter-2", "2026-11-10T12:00:00Z", 1300, 1000),
              _counters("counter-3", "2026-11-20T12:00:00Z", 40, 30),  # reset
              {"idempotency_key": "supply-1", "kind": "supplies",
               "occurred_at": "2026-11-20T12:00:00Z",
               "payload": {"supplies": [{"name": "Black Toner", "level_percent": 41},
                                        {"name": "Waste", "level_percent": None}]}}]
    for _attempt in range(2):  # resent: no reading twice
        answer = backend.client.post("/api/v1/events", headers=backend.headers(),
                                     json={"events": events})
        assert answer.status_code == 200, answer.text
    with db.read() as session:
        device = session.scalar(select(Device).where(Device.code == "LIB-MFP-1"))
        assert device is not None and device.model == "HP LaserJet M607"
        assert len(session.scalars(select(MeterReading).where(
            MeterReading.device_id == device.id)).all()) == 6
        levels = {r.supply: r.level_percent for r in session.scalars(
            select(SupplyReading).where(SupplyReading.device_id == device.id))}
        assert levels == {"Black Toner": 41, "Waste": None}
        november = device_volumes(session, _at(1), _at(1, 12), device_ids=[device.id])
    assert november == {device.id: {"total": 300 + 40, "total_mono": 200 + 30}}
