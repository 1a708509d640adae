"""A month's pages per device, site and client (mono, colour, scan, total), and the pages
the meters counted that the job log does not account for ("unattributed").

Months are calendar months in the site's time zone (``[vouchers] timezone``): an
administrator's "last month" ends at local midnight, not at UTC's. Per-device figures
come from :func:`backend.fleet.volumes.device_volumes` (resets and replaced devices
handled); a site's or a client's are the sums of their devices'.

Unattributed pages: a device's printed pages by its meter minus the sides the job log
says were printed on it (captured holds of the kiosks standing beside it, by the month
they were settled in). The meter counted is ``print_total`` when the device reports it
(copies are not jobs, so ``total`` would call every copy unattributed), else ``total``.
What is left is printing that bypassed the kiosk: a direct IP print, a job released on
the printer's own panel, a test page; or a kiosk that reported no sides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.fleet.volumes import device_volumes
from backend.models import Device, Hold, Site, Terminal

# What the page shows of a month, and the counters each column is made of.
COLUMNS: dict[str, tuple[str, ...]] = {
    "mono": ("total_mono",), "colour": ("total_colour",), "scan": ("scan_total",),
    "total": ("total",),
}
PRINTED = ("print_total", "total")  # the meter the job log is compared with, preferred first


@dataclass(frozen=True)
class Month:
    """``[start, end)`` in UTC of one calendar month in a time zone."""

    first: date
    start: datetime
    end: datetime


def month_of(moment: datetime, zone: str = "UTC") -> Month:
    local = moment.astimezone(ZoneInfo(zone))
    first = date(local.year, local.month, 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)

    def midnight(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)

    return Month(first, midnight(first), midnight(following))


def previous_month(month: Month, zone: str = "UTC") -> Month:
    """The month before: the one holding the last second before ``month`` starts."""
    return month_of(datetime.fromtimestamp(month.start.timestamp() - 1, UTC), zone)


@dataclass
class Pages:
    """One row of the volumes table: pages by column (0 where no counter says)."""

    mono: int = 0
    colour: int = 0
    scan: int = 0
    total: int = 0

    def add(self, other: Pages) -> None:
        self.mono += other.mono
        self.colour += other.colour
        self.scan += other.scan
        self.total += other.total


def _pages(counters: dict[str, int]) -> Pages:
    values = {column: sum(counters.get(name, 0) for name in names)
              for column, names in COLUMNS.items()}
    if not values["total"]:  # a device counting mono and colour only
        values["total"] = values["mono"] + values["colour"]
    return Pages(**values)


@dataclass
class FleetMonth:
    """A month's pages of every device, and summed by site and by client."""

    month: Month
    devices: dict[int, Pages] = field(default_factory=dict)
    sites: dict[int, Pages] = field(default_factory=dict)
    clients: dict[int, Pages] = field(default_factory=dict)


def fleet_month(session: Session, month: Month) -> FleetMonth:
    volumes = device_volumes(session, month.start, month.end)
    result = FleetMonth(month, {device_id: _pages(c) for device_id, c in volumes.items()})
    placed = session.execute(select(Device.id, Device.site_id, Site.client_id)
                             .join(Site, Site.id == Device.site_id)).tuples()
    for device_id, site_id, client_id in placed:
        pages = result.devices.get(device_id)
        if pages is None or site_id is None:
            continue
        result.sites.setdefault(site_id, Pages()).add(pages)
        result.clients.setdefault(client_id, Pages()).add(pages)
    return result


@dataclass(frozen=True)
class Unattributed:
    """One device's month: what the meter counted, what the job log accounts for."""

    device_id: int
    counter: str
    metered: int
    logged: int

    @property
    def pages(self) -> int:
        """Metered minus logged; negative when the log claims more (a meter read late)."""
        return self.metered - self.logged

    @property
    def percent(self) -> Decimal | None:
        """Of the metered pages, one decimal; None when nothing was metered."""
        if self.metered <= 0:
            return None
        return (Decimal(self.pages) * 100 / self.metered).quantize(Decimal("0.1"),
                                                                   ROUND_HALF_UP)


def logged_sides(session: Session, start: datetime, end: datetime,
                 device_codes: Iterable[str] | None = None) -> dict[str, int]:
    """Device code -> sides printed by captured holds settled in ``[start, end)``."""
    query = (select(Terminal.device,
                    func.sum(func.coalesce(Hold.mono_sides, 0)
                             + func.coalesce(Hold.colour_sides, 0)))
             .join(Terminal, Terminal.id == Hold.terminal_id)
             .where(Hold.status == "captured", Hold.settled_at >= start,
                    Hold.settled_at < end, Terminal.device.is_not(None))
             .group_by(Terminal.device))
    if device_codes is not None:
        query = query.where(Terminal.device.in_(list(device_codes)))
    return {str(code): int(sides or 0) for code, sides in session.execute(query).tuples()}


def unattributed(session: Session, start: datetime, end: datetime) -> list[Unattributed]:
    """Every device with a meter reading in the period, in code order."""
    volumes = device_volumes(session, start, end, counters=PRINTED)
    devices = dict(session.execute(select(Device.id, Device.code)).tuples().all())
    logged = logged_sides(session, start, end, [devices[d] for d in volumes if d in devices])
    rows = []
    for device_id, counters in volumes.items():
        counter = next(name for name in PRINTED if name in counters)
        code = devices[device_id]
        rows.append(Unattributed(device_id, counter, counters[counter], logged.get(code, 0)))
    return sorted(rows, key=lambda row: devices[row.device_id])

