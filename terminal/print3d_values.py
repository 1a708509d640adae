"""The values the 3D kiosk's workflow hands to its screens, and the filament profile of
a downloaded G-code file (grams so far from a file position)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from pathlib import Path

from analysis import analyse_gcode, filament_up_to
from terminal.ports import Balance

GRAMS = Decimal("0.01")


class Stage3D(Enum):
    """Where a 3D release is. The first four are on the way to the printer; the last
    six are final (``REFUSED``: nothing was held or it was given back at once)."""

    HOLDING = "holding"
    SENDING = "sending"  # claimed, downloaded, uploading and starting
    PRINTING = "printing"
    SETTLING = "settling"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"
    NOT_STARTED = "not_started"
    REFUSED = "refused"
    INSUFFICIENT = "insufficient"

    @property
    def final(self) -> bool:
        return self not in (Stage3D.HOLDING, Stage3D.SENDING, Stage3D.PRINTING,
                            Stage3D.SETTLING)


@dataclass(frozen=True)
class Print3DUpdate:
    """One step of a 3D print, for the screens. ``problem`` is a stable translatable key.

    ``username`` is whose print it is: the kiosk shows the details only to them (a
    second user sees the printer busy, with the progress and no names). On a final
    update, ``charged``/``grams_charged``/``balance`` are the backend's answer, None
    while the settlement waits in the outbox (``settlement_sent`` False)."""

    job_id: int
    name: str
    username: str
    stage: Stage3D
    currency: str
    held: Decimal | None = None
    percent: float | None = None
    time_left_s: int | None = None
    grams_so_far: Decimal | None = None
    grams_estimate: Decimal | None = None
    temperatures: Mapping[str, tuple[float, float | None]] = field(default_factory=dict)
    events: tuple[str, ...] = ()
    problem: str | None = None
    charged: Decimal | None = None
    grams_charged: Decimal | None = None
    policy: str | None = None
    balance: Balance | None = None
    missing: Decimal | None = None
    settlement_sent: bool = False
    printer_reachable: bool = True


Listener3D = Callable[[Print3DUpdate], None]


@dataclass(frozen=True)
class FilamentProfile:
    """Our filament along a G-code file: ``checkpoints`` are (byte offset, cumulative
    mm) about every 1 % of the file (the analysis's), ``grams`` the whole file's. Grams
    so far are interpolated between checkpoints: exact enough for a progress screen
    (the charge itself is measured by the backend on its own copy)."""

    size_bytes: int
    total_mm: Decimal
    grams: Decimal
    checkpoints: tuple[tuple[int, Decimal], ...]

    def mm_at(self, position: int) -> Decimal:
        points = ((0, Decimal(0)), *self.checkpoints, (self.size_bytes, self.total_mm))
        offsets = [offset for offset, _ in points]
        position = max(0, min(position, self.size_bytes))
        index = bisect_right(offsets, position) - 1
        if index >= len(points) - 1:
            return self.total_mm
        (start, before), (end, after) = points[index], points[index + 1]
        if end <= start:
            return after
        return before + (after - before) * Decimal(position - start) / Decimal(end - start)

    def grams_at(self, position: int) -> Decimal:
        if self.total_mm <= 0:
            return Decimal("0.00")
        grams = self.grams * self.mm_at(position) / self.total_mm
        return grams.quantize(GRAMS, rounding=ROUND_HALF_UP)


ProfileOf = Callable[[Path], FilamentProfile]


def gcode_profile(path: Path) -> FilamentProfile:
    """The filament profile of a text G-code file, from our analysis: what the kiosk shows
    as grams so far. The analysis checkpoints once per chunk it reads, which for a small
    file is a handful of points (one for a file under one chunk): too coarse to follow a
    print that extrudes unevenly, so a small file gets :data:`FINE_POINTS` checkpoints of
    its own from ``filament_up_to``. Raises :class:`analysis.GcodeError` for a file the
    analysis cannot read."""
    figures = analyse_gcode(path)
    points = figures.checkpoints
    if len(points) < FINE_POINTS // 2 and figures.size_bytes <= FINE_MAX_BYTES:
        offsets = sorted({figures.size_bytes * n // FINE_POINTS for n in range(1, FINE_POINTS)})
        points = tuple((offset, sum(filament_up_to(path, offset), Decimal(0)))
                       for offset in offsets)
    return FilamentProfile(figures.size_bytes, figures.total_mm, figures.grams, points)


FINE_POINTS = 100
FINE_MAX_BYTES = 4 * 1024 * 1024  # above this the analysis's own checkpoints are fine

