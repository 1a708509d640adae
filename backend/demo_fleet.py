"""The demo's fleet: a client "Demo University" with two sites, the demo kiosk's printer
placed on the library site and a second printer (no kiosk) in the science building,
and about a hundred days of meter and supply readings so that ``/admin/fleet`` shows
volumes, unattributed pages, a counter reset and supply forecasts from the first start.

Readings are dated back from the moment of seeding and made by a seeded generator, so
every demo looks alike. The forecasts stay weeks away (the alert window is 14 days by
default): a fresh demo mails nobody. Seeded as rows, not through the registry: this is
demo data, not an administrator's change, and it writes no audit entry.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Client, Device, MeterReading, Site, SupplyReading, Terminal, utcnow

DEMO_CLIENT = "DEMO-UNI"
DEMO_DEVICE = "printkiosk demo printer"  # the demo CUPS printer the demo kiosk releases to
DAYS = 100
RESET_DAYS_AGO = 40  # the library printer's counters were reset (a new controller board)
_SEED = 19


def seed_demo_fleet(session: Session, terminal_name: str, now: datetime | None = None) -> None:
    """Once: nothing is done when the demo client exists already."""
    if session.scalar(select(Client.id).where(Client.code == DEMO_CLIENT)) is not None:
        return
    now = now or utcnow()
    client = Client(code=DEMO_CLIENT, name="Demo University", billing_day=1)
    session.add(client)
    session.flush()
    library = Site(client_id=client.id, code="UNI-LIB", name="University library")
    science = Site(client_id=client.id, code="UNI-SCI", name="Science building")
    session.add_all([library, science])
    session.flush()
    terminal = session.scalar(select(Terminal).where(Terminal.name == terminal_name))
    if terminal is not None and terminal.device is None:
        terminal.device, terminal.device_model = DEMO_DEVICE, "HP Color LaserJet M555"
    kiosk_printer = session.scalar(select(Device).where(Device.code == DEMO_DEVICE))
    if kiosk_printer is None:
        kiosk_printer = Device(code=DEMO_DEVICE, name="Library colour MFP",
                               model="HP Color LaserJet M555")
        session.add(kiosk_printer)
    kiosk_printer.site_id, kiosk_printer.serial = library.id, "JPBCS12345"
    lab = Device(code="UNI-SCI-MFP-1", name="Science lab MFP", model="Ricoh MP C3002",
                 serial="W492KB03439", site_id=science.id)
    session.add(lab)
    session.flush()
    _readings(session, kiosk_printer.id, now, random.Random(_SEED), reset=True)
    _readings(session, lab.id, now, random.Random(_SEED + 1), reset=False)


def _readings(session: Session, device_id: int, now: datetime, rng: random.Random,
              reset: bool) -> None:
    mono, colour, scan = 120_000, 30_000, 8_000
    cyan_changed = DAYS - 30
    for day in range(0, DAYS + 1, 2):
        at = now - timedelta(days=DAYS - day, hours=1)
        if reset and day == DAYS - RESET_DAYS_AGO:
            mono, colour, scan = 0, 0, 0
        mono += rng.randint(150, 450)
        colour += rng.randint(40, 160)
        scan += rng.randint(20, 90)
        session.add_all(MeterReading(device_id=device_id, read_at=at, counter=name, value=v)
                        for name, v in (("total", mono + colour), ("total_mono", mono),
                                        ("total_colour", colour), ("scan_total", scan)))
        black = round(95 - 0.6 * day + rng.uniform(-1.5, 1.5))
        cyan = (round(80 - 0.5 * day) if day < cyan_changed
                else round(100 - 0.9 * (day - cyan_changed) + rng.uniform(-1, 1)))
        for supply, level in (("Black Toner", black), ("Cyan Toner", cyan),
                              ("Waste Toner Box", 80)):
            session.add(SupplyReading(device_id=device_id, read_at=at, supply=supply,
                                      level_percent=max(0, min(100, level))))
