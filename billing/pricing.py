"""Price one job with one price list: breakdown lines with exact amounts, one rounded total.

Lines keep the exact product (0.0725 x 3 = 0.2175) and the total is rounded once, so
the shown lines may differ from the total by a rounding cent; that is the rule of
ARCHITECTURE.md ("a job's total is rounded once, half-up"), and the backend charges
exactly the total. The quote also says how many pages the job adds to the period's
counted volume, which the caller keeps for the next job's tiers and included pages.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from billing.jobs import Job, PaperJob, PeriodVolume, Print3DJob
from billing.money import Money, quantum, round_money
from billing.pricelist import PriceList
from billing.tiers import split_across_tiers
from billing.units import Colour, DuplexCharging, MediaSize

PRECISION = 34  # significant digits for exact line amounts (IEEE decimal128)


class PricingError(ValueError):
    """The list cannot price this job (no rate for a function, size or material)."""


class LineKind(enum.Enum):
    """What a breakdown line charges for; stable keys a kiosk can translate."""

    INCLUDED = "included"
    PAGES = "pages"
    SHEETS = "sheets"
    TIER = "tier"
    JOB_FEE = "job_fee"
    TIME = "time"
    SETUP_FEE = "setup_fee"
    MATERIAL = "material"
    PRINTER_TIME = "printer_time"


@dataclass(frozen=True, slots=True)
class Line:
    """One breakdown line; ``amount`` is exact (unrounded), ``label`` is English for logs/CLI."""

    kind: LineKind
    label: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    colour: Colour | None = None
    size: MediaSize | None = None

    def text(self, currency: str) -> str:
        """``12 colour A4 pages x 0.25 = 3.00`` (the amount shown to the currency's unit)."""
        shown = self.amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)
        if self.kind is LineKind.INCLUDED:
            return f"{self.quantity} {self.label} = {shown}"
        if self.kind is LineKind.PRINTER_TIME:
            return f"{self.quantity} {self.label} at {self.unit_price} per hour = {shown}"
        return f"{self.quantity} {self.label} x {self.unit_price} = {shown}"


@dataclass(frozen=True)
class Quote:
    """The price of one job: lines, the total rounded once, and the volume it counts."""

    price_list: str
    currency: str
    lines: tuple[Line, ...]
    total: Money
    counted: PeriodVolume

    @property
    def exact_total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    def subtotal(self, colour: Colour) -> Decimal:
        """Exact sum of the page lines of one colour (fees and time excluded)."""
        return sum((line.amount for line in self.lines if line.colour is colour), Decimal(0))


def price(job: Job, price_list: PriceList, volume_before: PeriodVolume | None = None) -> Quote:
    """Price ``job`` with ``price_list`` given the pages already counted this period."""
    before = volume_before or PeriodVolume()
    # The caller's decimal context must not change a price: a backend that lowered the
    # precision elsewhere would otherwise round products silently before our one rounding.
    with localcontext(prec=PRECISION):
        if isinstance(job, Print3DJob):
            lines: tuple[Line, ...] = _print3d_lines(job, price_list)
            counted = PeriodVolume()
        else:
            lines, counted = _paper_lines(job, price_list, before)
        exact = sum((line.amount for line in lines), Decimal(0))
        total = round_money(exact, price_list.currency)
    return Quote(price_list.name, price_list.currency, lines, total, counted)


def _paper_lines(
    job: PaperJob, plist: PriceList, before: PeriodVolume
) -> tuple[tuple[Line, ...], PeriodVolume]:
    prices = plist.functions.get(job.function)
    if prices is None:
        raise PricingError(f"price list {plist.name!r} has no prices for {job.function.value}")
    volume = plist.volume
    counts = volume.counts(job.function)
    lines: list[Line] = []
    counted = {Colour.MONO: 0, Colour.COLOUR: 0}
    for colour in Colour:
        included = volume.included.get(colour, 0) if counts else 0
        included_left = max(0, included - before.of(colour))
        paid_so_far = max(0, before.of(colour) - included)
        tiers = volume.tiers.get(colour) if counts else None
        for size in MediaSize:
            per_copy = job.sides.get((colour, size), 0)
            if not per_copy:
                continue
            total = per_copy * job.copies
            if counts:
                counted[colour] += total
            free = min(included_left, total)
            included_left -= free
            what = f"{colour.value} {size.value} pages"
            if free:
                lines.append(Line(LineKind.INCLUDED, f"{what} included", Decimal(free),
                                  Decimal(0), Decimal(0), colour, size))
            paid = total - free
            if not paid:
                continue
            if tiers:
                for part in split_across_tiers(tiers, paid_so_far, paid):
                    lines.append(Line(
                        LineKind.TIER, f"{what} (tier {part.first}-{part.last})",
                        Decimal(part.count), part.price, part.amount, colour, size,
                    ))
                paid_so_far += paid
                continue
            rate = prices.rates.get((colour, size))
            if rate is None:
                raise PricingError(
                    f"price list {plist.name!r} has no {job.function.value} rate for "
                    f"{colour.value} {size.value}"
                )
            unit = rate.duplex if job.duplex else rate.simplex
            if plist.duplex_charging is DuplexCharging.PER_SHEET:
                sheets = (per_copy + 1) // 2 * job.copies if job.duplex else total
                sides_word = "duplex" if job.duplex else "simplex"
                lines.append(Line(LineKind.SHEETS, f"{colour.value} {size.value} {sides_word} "
                                  "sheets", Decimal(sheets), unit, unit * sheets, colour, size))
            else:
                label = f"{what} duplex" if job.duplex else what
                lines.append(Line(LineKind.PAGES, label, Decimal(paid), unit, unit * paid,
                                  colour, size))
    if job.minutes and prices.per_minute:
        lines.append(Line(LineKind.TIME, "minutes", job.minutes, prices.per_minute,
                          job.minutes * prices.per_minute))
    if prices.job_fee and (job.total_sides() or job.minutes):
        lines.append(Line(LineKind.JOB_FEE, "job fee", Decimal(1), prices.job_fee,
                          prices.job_fee))
    return tuple(lines), PeriodVolume(counted[Colour.MONO], counted[Colour.COLOUR])


def _print3d_lines(job: Print3DJob, plist: PriceList) -> tuple[Line, ...]:
    prices = plist.print3d
    if prices is None:
        raise PricingError(f"price list {plist.name!r} has no 3D printing prices")
    per_gram = prices.per_gram.get(job.material)
    if per_gram is None:
        known = ", ".join(sorted(prices.per_gram)) or "none"
        raise PricingError(
            f"price list {plist.name!r} has no price for material {job.material!r} "
            f"(priced: {known})"
        )
    lines = [Line(LineKind.MATERIAL, f"g {job.material}", job.grams, per_gram,
                  job.grams * per_gram)]
    if prices.per_hour and job.minutes:
        lines.append(Line(LineKind.PRINTER_TIME, "min printer time",
                          job.minutes, prices.per_hour, job.minutes * prices.per_hour / 60))
    if prices.setup_fee:
        lines.append(Line(LineKind.SETUP_FEE, "set-up fee", Decimal(1), prices.setup_fee,
                          prices.setup_fee))
    return tuple(lines)
