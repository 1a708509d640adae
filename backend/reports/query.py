"""A report request, validated: groupings, period, date range and filters.

Parsed from the same words on the CLI and in the admin page's form, so a bad grouping,
date or filter gets the same clear error in both places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

# What a report may be grouped (and filtered) by.
GROUPINGS: tuple[str, ...] = (
    "user", "group", "cost_centre", "device", "model", "site", "client", "card",
    "billing_code", "billing_client", "function", "period", "job",
)
PERIODS: tuple[str, ...] = ("day", "week", "month", "range")
FUNCTIONS: tuple[str, ...] = ("print", "copy", "scan", "3d")
# Groupings where one job may belong to several values (a user in two groups, with two
# cards): the job counts in each, so their rows may add up to more than the total.
FAN_OUT: frozenset[str] = frozenset({"group", "card"})


class ReportError(ValueError):
    """A report request that cannot run; ``field`` names the option or form field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class ReportQuery:
    """Jobs settled in [start, end) (UTC), grouped by ``by`` (in that order), bucketed
    by ``period`` when "period" is one of the groupings, restricted by ``where``
    (grouping -> accepted values, any of them)."""

    by: tuple[str, ...]
    start: datetime
    end: datetime
    period: str = "month"
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def words(self) -> dict[str, str]:
        """The query back as the CLI / form words (for links and saved reports)."""
        words = {"by": ",".join(self.by), "period": self.period,
                 "from": self.start.date().isoformat(), "to": self.end.date().isoformat()}
        if self.where:
            words["where"] = ";".join(f"{key}={','.join(values)}"
                                      for key, values in self.where.items())
        return words


def parse_by(raw: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not names:
        raise ReportError("by", f"choose at least one of {', '.join(GROUPINGS)}")
    for name in names:
        if name not in GROUPINGS:
            raise ReportError("by", f"unknown grouping {name!r}; choose from "
                                    f"{', '.join(GROUPINGS)}")
    if len(set(names)) != len(names):
        raise ReportError("by", f"a grouping is repeated in {raw!r}")
    return names


def parse_day(field_name: str, raw: str) -> datetime:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise ReportError(field_name, f"{raw!r} is not a date; write YYYY-MM-DD") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_where(items: list[str] | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """``site=LIB`` or ``device=P1,P2`` (any of them); several items all apply."""
    where: dict[str, tuple[str, ...]] = {}
    for item in items:
        for part in (p for p in item.split(";") if p.strip()):
            key, sep, values = part.partition("=")
            key = key.strip()
            if not sep or not values.strip():
                raise ReportError("where", f"{part!r} is not GROUPING=VALUE (e.g. site=LIB)")
            if key not in GROUPINGS or key == "period":
                raise ReportError("where", f"cannot filter on {key!r}; choose from "
                                           f"{', '.join(g for g in GROUPINGS if g != 'period')}")
            accepted = tuple(v.strip() for v in values.split(",") if v.strip())
            if key == "function":
                for value in accepted:
                    if value not in FUNCTIONS:
                        raise ReportError("where", f"function {value!r} is not one of "
                                                   f"{', '.join(FUNCTIONS)}")
            where[key] = where.get(key, ()) + accepted
    return where


def parse_query(by: str, period: str, start: str, end: str,
                where: list[str] | tuple[str, ...] = ()) -> ReportQuery:
    """The request from its words, or ReportError naming the first bad one."""
    groupings = parse_by(by)
    if period not in PERIODS:
        raise ReportError("period", f"{period!r} is not one of {', '.join(PERIODS)}")
    first = parse_day("from", start)
    last = parse_day("to", end)
    if first >= last:
        raise ReportError("to", f"{end} must be after from ({start})")
    return ReportQuery(groupings, first, last, period, parse_where(where))
