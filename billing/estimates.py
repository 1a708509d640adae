"""Estimates for the kiosk: a job's price, and what it would cost in mono and/or duplex.

Seed 000: showing the cost before a job runs, with the cheaper choices beside it, is the
most effective way to lower printing costs ("il peut choisir de convertir une tâche
d'impression couleur en niveaux de gris"). Alternatives are only offered when they change
the job, and one the list cannot price (no mono A3 rate, say) is left out, not guessed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from billing.jobs import Job, PaperJob, PeriodVolume
from billing.money import Money
from billing.pricelist import PriceList
from billing.pricing import PricingError, Quote, price
from billing.units import Colour


class Change(enum.Enum):
    """What the user would change; also the translation key the kiosk shows."""

    MONO = "mono"
    DUPLEX = "duplex"
    MONO_DUPLEX = "mono_duplex"


_WORDS = {Change.MONO: "mono", Change.DUPLEX: "duplex", Change.MONO_DUPLEX: "mono and duplex"}


@dataclass(frozen=True)
class Alternative:
    """The job with one change: its quote and the saving against the job as submitted."""

    change: Change
    job: PaperJob
    quote: Quote
    saving: Money

    def text(self) -> str:
        """English summary for logs and the CLI: ``switch to mono: save 2.40``."""
        return f"switch to {_WORDS[self.change]}: save {self.saving.amount}"


@dataclass(frozen=True)
class Estimate:
    """A job's quote with its cheaper (or equal) variants, in a fixed order."""

    quote: Quote
    alternatives: tuple[Alternative, ...]

    def alternative(self, change: Change) -> Alternative | None:
        return next((a for a in self.alternatives if a.change is change), None)


def estimate(
    job: Job, price_list: PriceList, volume_before: PeriodVolume | None = None
) -> Estimate:
    """Price ``job`` and, for paper jobs, its mono / duplex / both variants."""
    quote = price(job, price_list, volume_before)
    if not isinstance(job, PaperJob):
        return Estimate(quote, ())
    variants: list[tuple[Change, PaperJob]] = []
    has_colour = job.total_sides(Colour.COLOUR) > 0
    can_duplex = not job.duplex and any(n > 1 for n in job.sides.values())
    if has_colour:
        variants.append((Change.MONO, job.in_mono()))
    if can_duplex:
        variants.append((Change.DUPLEX, job.in_duplex()))
    if has_colour and can_duplex:
        variants.append((Change.MONO_DUPLEX, job.in_mono().in_duplex()))
    alternatives = []
    for change, variant in variants:
        try:
            other = price(variant, price_list, volume_before)
        except PricingError:
            continue
        alternatives.append(Alternative(change, variant, other, quote.total - other.total))
    return Estimate(quote, tuple(alternatives))
