"""When each supply runs out: a least-squares line through its recent levels.

Why a straight line over the recent history and not the last two readings: a toner level
is an integer percentage that moves by steps and sometimes back (a cartridge shaken,
a sensor's jitter); the line through every reading of the last weeks averages that out,
and two readings an hour apart would forecast nonsense. The history used starts after
the last refill (a level that rose by more than :data:`REFILL_RISE` points: a new
cartridge starts a new line) and at most ``window_days`` back, so a site whose use
changed is forecast by its recent weeks. No forecast when fewer than ``min_points``
readings, or less than a day of data, remain, or when the line does not fall.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import SupplyReading

REFILL_RISE = 5  # points: more than jitter, less than any real refill
DAY_S = 86_400.0


@dataclass(frozen=True)
class Level:
    at: datetime
    percent: int


@dataclass(frozen=True)
class Forecast:
    """``runs_out_at`` None: no forecast (see ``reason``: few_points, short, not_falling)."""

    supply: str
    last: Level
    points: int
    days_of_data: float
    percent_per_day: float | None
    runs_out_at: datetime | None
    reason: str | None = None

    def days_left(self, now: datetime) -> float | None:
        if self.runs_out_at is None:
            return None
        return max(0.0, (self.runs_out_at - now).total_seconds() / DAY_S)


def since_last_refill(levels: Sequence[Level]) -> list[Level]:
    """The readings after the last rise of more than :data:`REFILL_RISE` points."""
    start = 0
    for index in range(1, len(levels)):
        if levels[index].percent - levels[index - 1].percent > REFILL_RISE:
            start = index
    return list(levels[start:])


def fit(supply: str, levels: Sequence[Level], min_points: int = 3) -> Forecast:
    """The least-squares forecast of ``levels`` (time order, already windowed)."""
    used = since_last_refill(levels)
    last = used[-1]
    origin = used[0].at
    xs = [(level.at - origin).total_seconds() / DAY_S for level in used]
    ys = [float(level.percent) for level in used]
    span = xs[-1] - xs[0]
    if len(used) < min_points:
        return Forecast(supply, last, len(used), span, None, None, "few_points")
    if span < 1.0:
        return Forecast(supply, last, len(used), span, None, None, "short")
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    if slope >= 0:
        return Forecast(supply, last, len(used), span, slope, None, "not_falling")
    intercept = mean_y - slope * mean_x
    empty_day = -intercept / slope
    return Forecast(supply, last, len(used), span, slope,
                    origin + timedelta(days=empty_day))


def device_forecasts(session: Session, device_id: int, now: datetime,
                     window_days: int = 90, min_points: int = 3) -> list[Forecast]:
    """A forecast for every supply of the device read in the window, by supply name."""
    rows = session.execute(
        select(SupplyReading.supply, SupplyReading.read_at, SupplyReading.level_percent)
        .where(SupplyReading.device_id == device_id,
               SupplyReading.read_at >= now - timedelta(days=window_days),
               SupplyReading.read_at <= now, SupplyReading.level_percent.is_not(None))
        .order_by(SupplyReading.supply, SupplyReading.read_at, SupplyReading.id)).tuples()
    series: dict[str, list[Level]] = defaultdict(list)
    for supply, at, level in rows:
        if level is not None:
            series[supply].append(Level(at, level))
    return [fit(supply, levels, min_points) for supply, levels in sorted(series.items())]


def history(session: Session, device_id: int, supply: str, since: datetime) -> list[Level]:
    """The known levels of one supply since ``since`` (the page's chart)."""
    return [Level(at, level) for at, level in session.execute(
        select(SupplyReading.read_at, SupplyReading.level_percent)
        .where(SupplyReading.device_id == device_id, SupplyReading.supply == supply,
               SupplyReading.read_at >= since, SupplyReading.level_percent.is_not(None))
        .order_by(SupplyReading.read_at, SupplyReading.id)).tuples() if level is not None]
