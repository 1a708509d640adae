"""Accounting periods: the unit in which volumes are counted and prices take effect.

Seed 001: "toute modification de ces prix prend effet à partir du début de la période
comptable en cours. Les périodes de facturation précédentes ne seront pas affectées."
Periods are months starting on a configurable day (1-28, so every month has that day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class AccountingPeriods:
    """Monthly periods starting on ``start_day`` (a contract may run from the 15th)."""

    start_day: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.start_day, bool) or not 1 <= self.start_day <= 28:
            raise ValueError(f"period start day must be 1..28, not {self.start_day!r}")

    def start_of(self, day: date) -> date:
        """First day of the period containing ``day``."""
        if day.day >= self.start_day:
            return day.replace(day=self.start_day)
        year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
        return date(year, month, self.start_day)

    def next_start(self, day: date) -> date:
        """First day of the period after the one containing ``day``."""
        start = self.start_of(day)
        year, month = (start.year, start.month + 1) if start.month < 12 else (start.year + 1, 1)
        return date(year, month, self.start_day)
