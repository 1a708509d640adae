"""Volume tiers: the price of a page depends on its position in the period's volume.

Seed 001 ("prix personnalisé pour le nombre total de pages imprimées"): pages 1-100 at
10, 101-1000 at 8, ... A job that straddles a boundary is split, each part at its own
tier's price, so printing 13 207 pages in one job or in a thousand jobs costs the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Tier:
    """Pages from position ``first`` (1-based) onwards cost ``price`` each, until the next tier."""

    first: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class TierSlice:
    """The part of a job that falls in one tier: positions ``first``..``last`` inclusive."""

    first: int
    last: int
    price: Decimal

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    @property
    def amount(self) -> Decimal:
        return self.price * self.count


def check_tiers(tiers: Sequence[Tier]) -> None:
    """Tiers must start at page 1 and rise strictly, so every page has exactly one price."""
    if not tiers:
        raise ValueError("a tier list needs at least one tier")
    if tiers[0].first != 1:
        raise ValueError(f"the first tier must start at page 1, not {tiers[0].first}")
    for before, after in itertools.pairwise(tiers):
        if after.first <= before.first:
            raise ValueError(
                f"tiers must start at increasing pages: {after.first} follows {before.first}"
            )
    for tier in tiers:
        if tier.price < 0:
            raise ValueError(f"tier from page {tier.first} has a negative price {tier.price}")


def split_across_tiers(tiers: Sequence[Tier], already: int, count: int) -> tuple[TierSlice, ...]:
    """Slices for pages ``already + 1`` .. ``already + count`` of the period, in order."""
    if already < 0 or count < 0:
        raise ValueError(f"page counts cannot be negative (already={already}, count={count})")
    check_tiers(tiers)
    start, end = already + 1, already + count
    slices = []
    for index, tier in enumerate(tiers):
        tier_last = tiers[index + 1].first - 1 if index + 1 < len(tiers) else end
        first, last = max(start, tier.first), min(end, tier_last)
        if first <= last:
            slices.append(TierSlice(first, last, tier.price))
    return tuple(slices)
