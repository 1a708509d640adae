"""What a client used in a billing period, read from the fleet and the job log.

(a) Fleet: the counters of the devices at the client's sites, as counter deltas
(``backend.fleet.volumes.device_volumes``: resets and replaced devices handled), with
the device's model. (b) Billing codes: the captured jobs charged to the client's code or
any of its sub-codes (mono and colour sides really printed). (c) Supplies: a supply
counts as replaced when its level rises by :data:`REPLACED_RISE` points or more between
two readings (a new cartridge), for the per-consumable type.

Period bounds are UTC midnights: instants are stored in UTC (ARCHITECTURE.md).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.fleet.volumes import device_volumes
from backend.models import BillingCode, Client, Device, Hold, Site, SupplyReading
from backend.statements.pricing import DeviceUsage, Usage

COUNTERS = ("total_mono", "total_colour", "scan_total")
REPLACED_RISE = 30  # percentage points


def instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def client_usage(session: Session, client: Client, start: date, end: date) -> Usage:
    begin, finish = instant(start), instant(end)
    devices = session.scalars(select(Device).join(Site, Device.site_id == Site.id)
                              .where(Site.client_id == client.id).order_by(Device.code)).all()
    volumes = device_volumes(session, begin, finish, [d.id for d in devices], COUNTERS)
    fleet = tuple(DeviceUsage(d.code, d.model, volumes.get(d.id, {}).get("total_mono", 0),
                              volumes.get(d.id, {}).get("total_colour", 0),
                              volumes.get(d.id, {}).get("scan_total", 0)) for d in devices)
    mono = colour = 0
    if client.billing_code_id is not None:
        codes = code_and_descendants(session, client.billing_code_id)
        mono, colour = session.execute(
            select(func.coalesce(func.sum(Hold.mono_sides), 0),
                   func.coalesce(func.sum(Hold.colour_sides), 0))
            .where(Hold.status == "captured", Hold.billing_code_id.in_(codes),
                   Hold.settled_at >= begin, Hold.settled_at < finish)).one()
    return Usage(fleet, int(mono), int(colour),
                 supplies_replaced(session, [d.id for d in devices], begin, finish))


def code_and_descendants(session: Session, root: int) -> list[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for code_id, parent_id in session.execute(select(BillingCode.id, BillingCode.parent_id)):
        children[parent_id].append(code_id)
    found, todo = [], [root]
    while todo:
        code_id = todo.pop()
        if code_id not in found:
            found.append(code_id)
            todo.extend(children[code_id])
    return found


def supplies_replaced(session: Session, device_ids: list[int], begin: datetime,
                      finish: datetime) -> dict[str, int]:
    """``{supply: replacements}`` in ``[begin, finish)``; the last reading before the
    period is the baseline, so a cartridge changed just after the period start counts."""
    if not device_ids:
        return {}
    counts: dict[str, int] = defaultdict(int)
    previous: dict[tuple[int, str], int] = {}
    for device_id, supply, level, at in session.execute(
            select(SupplyReading.device_id, SupplyReading.supply, SupplyReading.level_percent,
                   SupplyReading.read_at)
            .where(SupplyReading.device_id.in_(device_ids), SupplyReading.read_at < finish,
                   SupplyReading.level_percent.is_not(None))
            .order_by(SupplyReading.device_id, SupplyReading.supply, SupplyReading.read_at)):
        key = (device_id, supply)
        before = previous.get(key)
        if before is not None and at >= begin and level - before >= REPLACED_RISE:
            counts[supply] += 1
        previous[key] = level
    return dict(counts)
