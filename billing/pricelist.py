"""A price list: what each function, colour, size and side costs, for one scope and date.

A list is a whole template (as in seed 000: "chaque modèle peut être lié à une
imprimante, à un utilisateur ou à un centre de coûts"): the most specific list that
applies is used entirely, never merged rate by rate with a less specific one, so an
operator reading one file knows every price a user will pay.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billing.tiers import Tier, check_tiers
from billing.units import Colour, DuplexCharging, Function, MediaSize


def _not_negative(what: str, value: Decimal) -> None:
    """Prices are never negative: a discount is a lower price, not a credit."""
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValueError(f"{what} must be a non-negative Decimal, not {value!r}")


class ScopeKind(enum.Enum):
    """Who or what a list is for, least specific first (the order is the precedence)."""

    DEFAULT = "default"
    DEVICE_MODEL = "device_model"
    DEVICE = "device"
    GROUP = "group"
    COST_CENTRE = "cost_centre"
    USER = "user"


@dataclass(frozen=True, slots=True)
class Scope:
    """``Scope(GROUP, "staff")``; the default scope has no target."""

    kind: ScopeKind
    target: str = ""

    def __post_init__(self) -> None:
        if (self.kind is ScopeKind.DEFAULT) != (self.target == ""):
            raise ValueError(
                "the default scope has no target; every other scope names one "
                f"(got {self.kind.value} {self.target!r})"
            )

    def __str__(self) -> str:
        return self.kind.value if not self.target else f"{self.kind.value} {self.target!r}"


DEFAULT_SCOPE = Scope(ScopeKind.DEFAULT)


@dataclass(frozen=True, slots=True)
class PaperRate:
    """Price of a side (per-side lists) or of a sheet (per-sheet lists), simplex and duplex."""

    simplex: Decimal
    duplex: Decimal

    def __post_init__(self) -> None:
        _not_negative("simplex rate", self.simplex)
        _not_negative("duplex rate", self.duplex)


@dataclass(frozen=True)
class FunctionPrices:
    """Rates of one paper function by (colour, size), plus a fee per job and per minute."""

    rates: Mapping[tuple[Colour, MediaSize], PaperRate] = field(default_factory=dict)
    job_fee: Decimal = Decimal(0)
    per_minute: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        _not_negative("job fee", self.job_fee)
        _not_negative("price per minute", self.per_minute)


@dataclass(frozen=True)
class Print3DPrices:
    """3D printing: material by the gram, printer time by the hour, and a set-up fee."""

    per_gram: Mapping[str, Decimal]
    per_hour: Decimal = Decimal(0)
    setup_fee: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        _not_negative("price per hour", self.per_hour)
        _not_negative("set-up fee", self.setup_fee)
        for material, price in self.per_gram.items():
            _not_negative(f"price per gram of {material}", price)


@dataclass(frozen=True)
class VolumePricing:
    """Period volume rules for the counted functions: included pages, then tiers.

    Included pages (seed 001, "système d'abonnement") are the first pages of each period
    and cost nothing; tiers then count only the pages beyond them, so the first tier is
    the first *paid* page. A colour without tiers is priced by the flat rates.
    """

    functions: frozenset[Function] = frozenset({Function.PRINT, Function.COPY})
    included: Mapping[Colour, int] = field(default_factory=dict)
    tiers: Mapping[Colour, tuple[Tier, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for tiers in self.tiers.values():
            check_tiers(tiers)
        for colour, pages in self.included.items():
            if pages < 0:
                raise ValueError(f"included {colour.value} pages cannot be negative: {pages}")

    def counts(self, function: Function) -> bool:
        return function in self.functions


@dataclass(frozen=True)
class PriceList:
    """One version of one scope's prices, in force from the period containing ``effective_from``."""

    name: str
    currency: str
    scope: Scope = DEFAULT_SCOPE
    effective_from: date = date(1970, 1, 1)
    duplex_charging: DuplexCharging = DuplexCharging.PER_SIDE
    functions: Mapping[Function, FunctionPrices] = field(default_factory=dict)
    print3d: Print3DPrices | None = None
    volume: VolumePricing = field(default_factory=VolumePricing)

    def __post_init__(self) -> None:
        if Function.PRINT_3D in self.functions:
            raise ValueError("3D printing is priced by print3d, not by paper rates")
        if self.duplex_charging is DuplexCharging.PER_SHEET and (
            self.volume.tiers or any(self.volume.included.values())
        ):
            raise ValueError("volume tiers and included pages count sides: use per_side charging")
