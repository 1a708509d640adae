"""The demo's fleet: a client "Demo University" with two sites, the demo kiosk's printer
placed on the library site and a second printer (no kiosk) in the science building,
and about a hundred days of meter and supply readings so that ``/admin/fleet`` shows
volumes, unattributed pages, a counter reset and supply forecasts from the first start.

The kiosk's printer history ends where the demo's SNMP recording stands
(:data:`DEMO_PRINTER_PAGES`, :data:`DEMO_PRINTER_TONERS`, which printkiosk's demo agent
serves): the kiosk's own first reading then continues it, rather than counting the
whole life counter as one day's pages. Its magenta toner is low in the recording: its
forecast is about 18 days away, just outside the default 14-day alert window, so a fresh
demo's scheduled checks open no forecast problem (the recording's own "Magenta toner
low" alert already mails the administrator). The science printer's counters were reset
40 days ago.
Readings are dated back from the moment of seeding and made by a seeded generator, so
every demo looks alike. Seeded as rows, not through the registry: this is
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
# What the demo printer's SNMP recording says (printkiosk.commands.demo_snmp serves it).
DEMO_PRINTER_PAGES = 48213
DEMO_PRINTER_TONERS = (("black", 82), ("cyan", 45), ("magenta", 8), ("yellow", 64))
DAYS = 100
RESET_DAYS_AGO = 40  # the science printer's counters were reset (a new controller board)
_SEED = 19
# Toner used per day (percent) on the kiosk's printer, so each level falls to the
# recording's over the seeded days.
_TONER_USE = {"black": 0.12, "cyan": 0.35, "magenta": 0.45, "yellow": 0.3}


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
    _kiosk_printer_readings(session, kiosk_printer.id, now, random.Random(_SEED))
    _lab_readings(session, lab.id, now, random.Random(_SEED + 1))


def _days(now: datetime) -> list[datetime]:
    """A reading every two days, the last one an hour ago."""
    return [now - timedelta(days=DAYS - day, hours=1) for day in range(0, DAYS + 1, 2)]


def _kiosk_printer_readings(session: Session, device_id: int, now: datetime,
                            rng: random.Random) -> None:
    """Counters rising to the recording's total, toners falling to its levels (the
    recording counts all pages in ``total`` only, so that is the one counter here)."""
    moments = _days(now)
    steps = [rng.randint(20, 40) for _ in moments[1:]]
    total = DEMO_PRINTER_PAGES - sum(steps)
    for index, at in enumerate(moments):
        if index:
            total += steps[index - 1]
        session.add(MeterReading(device_id=device_id, read_at=at, counter="total",
                                 value=total))
        days_left = (moments[-1] - at).days
        for colour, level in DEMO_PRINTER_TONERS:
            then = level + _TONER_USE[colour] * days_left + rng.uniform(-1, 1)
            session.add(SupplyReading(device_id=device_id, read_at=at,
                                      supply=f"{colour.title()} toner",
                                      level_percent=max(0, min(100, round(then)))))


def _lab_readings(session: Session, device_id: int, now: datetime,
                  rng: random.Random) -> None:
    mono, colour, scan = 120_000, 30_000, 8_000
    cyan_changed = DAYS - 30
    for day, at in zip(range(0, DAYS + 1, 2), _days(now), strict=True):
        if day == DAYS - RESET_DAYS_AGO:
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
