"""Helpers for billing tests: price lists built in code, the repository's config folder."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from billing import (
    Colour,
    Function,
    FunctionPrices,
    MediaSize,
    PaperRate,
    PriceList,
    Scope,
    ScopeKind,
)

REPO = Path(__file__).resolve().parents[2]
SEED_FILE = REPO / "config" / "pricelists" / "seed-001-volume-tiers.toml"


def flat_list(
    name: str,
    mono: str = "0.05",
    colour: str = "0.25",
    *,
    scope: Scope | None = None,
    effective_from: date = date(2026, 1, 1),
) -> PriceList:
    """A one-size (A4) print list whose name says where it came from."""
    rates = {
        (Colour.MONO, MediaSize.A4): PaperRate(Decimal(mono), Decimal(mono)),
        (Colour.COLOUR, MediaSize.A4): PaperRate(Decimal(colour), Decimal(colour)),
    }
    return PriceList(
        name, "EUR", scope or Scope(ScopeKind.DEFAULT), effective_from,
        functions={Function.PRINT: FunctionPrices(rates)},
    )
