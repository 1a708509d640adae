"""Pages a device made in a period, from its counter readings.

A counter only grows, except when it is reset (a service reset, a new controller board)
or the device is replaced: then the next reading is smaller, or comes with another serial
number, and the pages since are the new reading itself (the counter restarted from zero).
Each delta is dated at its later reading, so a period holds the deltas of the readings
taken in it; the last reading before the period is the baseline. Summing deltas (rather
than last minus first) is what keeps a reset mid-month from turning into a negative or a
lost month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from backend.models import MeterReading


@dataclass(frozen=True)
class Reading:
    at: datetime
    value: int
    serial: str | None = None


def pages_between(baseline: Reading | None, readings: Sequence[Reading]) -> int:
    """Pages counted by ``readings`` (in time order) after ``baseline``, resets included."""
    total = 0
    previous = baseline
    for reading in readings:
        if previous is None:
            pass  # the first reading ever: it is the baseline, not pages of this period
        elif reading.value < previous.value or (
                reading.serial and previous.serial and reading.serial != previous.serial):
            total += reading.value  # reset or replaced: counted from zero again
        else:
            total += reading.value - previous.value
        previous = reading
    return total


def device_volumes(session: Session, start: datetime, end: datetime,
                   device_ids: Iterable[int] | None = None,
                   counters: Iterable[str] | None = None) -> dict[int, dict[str, int]]:
    """``{device_id: {counter: pages}}`` for readings in ``[start, end)``."""
    wanted = None if device_ids is None else list(device_ids)
    names = None if counters is None else list(counters)

    def scoped(query: Select[Any]) -> Select[Any]:
        if wanted is not None:
            query = query.where(MeterReading.device_id.in_(wanted))
        if names is not None:
            query = query.where(MeterReading.counter.in_(names))
        return query

    last_before = scoped(
        select(MeterReading.device_id, MeterReading.counter,
               func.max(MeterReading.read_at).label("at"))
        .where(MeterReading.read_at < start)
        .group_by(MeterReading.device_id, MeterReading.counter)).subquery()
    baselines: dict[tuple[int, str], Reading] = {}
    for device_id, counter, at, value, serial in session.execute(
            select(MeterReading.device_id, MeterReading.counter, MeterReading.read_at,
                   MeterReading.value, MeterReading.serial)
            .join(last_before, (MeterReading.device_id == last_before.c.device_id)
                  & (MeterReading.counter == last_before.c.counter)
                  & (MeterReading.read_at == last_before.c.at))):
        baselines[(device_id, counter)] = Reading(at, value, serial)
    series: dict[tuple[int, str], list[Reading]] = defaultdict(list)
    for device_id, counter, at, value, serial in session.execute(scoped(
            select(MeterReading.device_id, MeterReading.counter, MeterReading.read_at,
                   MeterReading.value, MeterReading.serial)
            .where(MeterReading.read_at >= start, MeterReading.read_at < end)
            .order_by(MeterReading.device_id, MeterReading.counter, MeterReading.read_at,
                      MeterReading.id))):
        series[(device_id, counter)].append(Reading(at, value, serial))
    volumes: dict[int, dict[str, int]] = defaultdict(dict)
    for (device_id, counter), readings in series.items():
        volumes[device_id][counter] = pages_between(baselines.get((device_id, counter)),
                                                    readings)
    return dict(volumes)
