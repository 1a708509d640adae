"""A period's usage priced with a plan: statement lines with exact amounts.

The tiered type reuses billing's volume tiers (``split_across_tiers``), so seed 001's
example comes out as in billing's own test: 13 207 mono pages -> 75 028, 11 216 colour
pages -> 86 723.20. Lines keep exact amounts; the statement total is their sum rounded
once, half-up (billing's ``round_money``), as for a job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from backend.statements.plans import BillingType, PagePrices, PlanTerms
from billing import round_money, split_across_tiers


@dataclass(frozen=True)
class DeviceUsage:
    code: str
    model: str | None
    mono: int = 0
    colour: int = 0
    scan: int = 0


@dataclass(frozen=True)
class Usage:
    """What a client used in a period: fleet devices' counter deltas, the pages of jobs
    charged to its billing codes, and the supplies replaced in its devices."""

    devices: tuple[DeviceUsage, ...] = ()
    code_mono: int = 0
    code_colour: int = 0
    supplies: dict[str, int] = field(default_factory=dict)

    @property
    def mono(self) -> int:
        return self.code_mono + sum(d.mono for d in self.devices)

    @property
    def colour(self) -> int:
        return self.code_colour + sum(d.colour for d in self.devices)

    @property
    def scan(self) -> int:
        return sum(d.scan for d in self.devices)


@dataclass(frozen=True)
class PricedLine:
    kind: str  # fee | pages | included | tier | consumable | transfer
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    details: dict[str, Any] = field(default_factory=dict)


def price_usage(terms: PlanTerms, usage: Usage) -> list[PricedLine]:
    """The lines of one period (no transfer lines: generation adds those)."""
    with localcontext(prec=34):
        lines: list[PricedLine] = []
        if terms.monthly_fee:
            lines.append(PricedLine("fee", "Monthly subscription", 1, terms.monthly_fee,
                                    terms.monthly_fee))
        if terms.billing_type is BillingType.SIMPLE:
            assert terms.prices is not None
            lines += _simple(terms, usage, terms.prices)
        elif terms.billing_type is BillingType.DEVICE_MODEL:
            lines += _per_model(terms, usage)
        elif terms.billing_type is BillingType.TIERED:
            lines += _tiered(terms, usage)
        else:
            lines += _consumables(terms, usage)
        return lines


def total_of(lines: list[PricedLine], currency: str) -> Decimal:
    return round_money(sum((line.amount for line in lines), Decimal(0)), currency).amount


def _pages(kind: str, what: str, count: int, unit: Decimal,
           details: dict[str, Any] | None = None) -> PricedLine:
    return PricedLine(kind, what, count, unit, unit * count, details or {})


def _simple(terms: PlanTerms, usage: Usage, prices: PagePrices) -> list[PricedLine]:
    lines: list[PricedLine] = []
    for colour, pages, included, unit in (
            ("mono", usage.mono, terms.included_mono, prices.mono),
            ("colour", usage.colour, terms.included_colour, prices.colour)):
        free = min(pages, included)
        if free:
            lines.append(_pages("included", f"{colour} pages included in the subscription",
                                free, Decimal(0), {"colour": colour, "included": included}))
        if pages - free:
            lines.append(_pages("pages", f"{colour} pages", pages - free, unit,
                                {"colour": colour}))
    if usage.scan:
        lines.append(_pages("pages", "scanned pages", usage.scan, prices.scan,
                            {"function": "scan"}))
    return lines


def _per_model(terms: PlanTerms, usage: Usage) -> list[PricedLine]:
    """Each device at its model's prices (the plan's default prices otherwise); pages of
    billing-code jobs, which have no device model here, at the default prices."""
    assert terms.prices is not None
    lines: list[PricedLine] = []
    by_model: dict[str, list[int]] = {}
    for device in usage.devices:
        model = device.model if device.model in terms.models else ""
        counts = by_model.setdefault(model, [0, 0, 0])
        counts[0] += device.mono
        counts[1] += device.colour
        counts[2] += device.scan
    if usage.code_mono or usage.code_colour:
        counts = by_model.setdefault("", [0, 0, 0])
        counts[0] += usage.code_mono
        counts[1] += usage.code_colour
    for model in sorted(by_model, key=lambda name: (name == "", name)):
        prices = terms.models.get(model, terms.prices)
        label = model or "other devices"
        for what, count, unit in (("mono pages", by_model[model][0], prices.mono),
                                  ("colour pages", by_model[model][1], prices.colour),
                                  ("scanned pages", by_model[model][2], prices.scan)):
            if count:
                lines.append(_pages("pages", f"{label}: {what}", count, unit,
                                    {"model": model or None}))
    return lines


def _tiered(terms: PlanTerms, usage: Usage) -> list[PricedLine]:
    lines: list[PricedLine] = []
    for colour, pages in (("mono", usage.mono), ("colour", usage.colour)):
        for part in split_across_tiers(terms.tiers[colour], 0, pages):
            lines.append(_pages("tier", f"{colour} pages {part.first}-{part.last}",
                                part.count, part.price,
                                {"colour": colour, "first": part.first, "last": part.last}))
    return lines


def _consumables(terms: PlanTerms, usage: Usage) -> list[PricedLine]:
    return [_pages("consumable", f"{supply} replaced", usage.supplies[supply], unit,
                   {"supply": supply})
            for supply, unit in terms.supplies.items() if usage.supplies.get(supply)]
