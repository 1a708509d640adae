"""Hypothesis properties of pricing: never negative, monotone, rounded once, tiers consistent."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from billing import (
    Colour,
    DuplexCharging,
    Function,
    FunctionPrices,
    MediaSize,
    PaperJob,
    PaperRate,
    PeriodVolume,
    PriceList,
    Tier,
    VolumePricing,
    price,
    round_money,
)

SIZES = (MediaSize.A4, MediaSize.A3)
unit_prices = st.decimals(min_value=Decimal(0), max_value=Decimal("20"), places=4)
counts = st.integers(min_value=0, max_value=3000)


@st.composite
def tier_lists(draw: st.DrawFn) -> tuple[Tier, ...]:
    starts = sorted(draw(st.sets(st.integers(min_value=2, max_value=5000), max_size=4)))
    return tuple(Tier(first, draw(unit_prices)) for first in [1, *starts])


@st.composite
def price_lists(draw: st.DrawFn) -> PriceList:
    charging = draw(st.sampled_from(DuplexCharging))
    rates = {
        (colour, size): PaperRate(draw(unit_prices), draw(unit_prices))
        for colour in Colour for size in SIZES
    }
    volume = VolumePricing()
    if charging is DuplexCharging.PER_SIDE:
        volume = VolumePricing(
            included={c: draw(st.integers(0, 500)) for c in Colour},
            tiers={c: draw(tier_lists()) for c in Colour if draw(st.booleans())},
        )
    fees = FunctionPrices(rates, draw(unit_prices), draw(unit_prices))
    return PriceList("generated", "EUR", duplex_charging=charging,
                     functions={Function.PRINT: fees}, volume=volume)


@st.composite
def jobs(draw: st.DrawFn) -> PaperJob:
    sides = {(c, s): draw(st.integers(0, 400)) for c in Colour for s in SIZES}
    minutes = draw(st.decimals(min_value=Decimal(0), max_value=Decimal(60), places=1))
    return PaperJob(Function.PRINT, sides, draw(st.booleans()), draw(st.integers(1, 5)), minutes)


volumes = st.builds(PeriodVolume, counts, counts)


@settings(deadline=None)  # no timing in tests: a loaded CI machine is slow
@given(price_lists(), jobs(), volumes)
def test_total_is_never_negative(plist: PriceList, job: PaperJob, before: PeriodVolume) -> None:
    assert price(job, plist, before).total.amount >= 0


@settings(max_examples=150, deadline=None)
@given(price_lists(), jobs(), volumes, st.sampled_from(Colour), st.sampled_from(SIZES))
def test_adding_a_page_never_lowers_the_price(
    plist: PriceList, job: PaperJob, before: PeriodVolume, colour: Colour, size: MediaSize
) -> None:
    bigger = dict(job.sides)
    bigger[(colour, size)] = bigger.get((colour, size), 0) + 1
    more = PaperJob(job.function, bigger, job.duplex, job.copies, job.minutes)
    assert price(more, plist, before).total >= price(job, plist, before).total


@settings(deadline=None)  # no timing in tests: a loaded CI machine is slow
@given(price_lists(), jobs(), volumes)
def test_total_is_the_exact_sum_rounded_once(
    plist: PriceList, job: PaperJob, before: PeriodVolume
) -> None:
    quote = price(job, plist, before)
    assert quote.total == round_money(sum((line.amount for line in quote.lines), Decimal(0)),
                                      "EUR")
    # Rounding each line instead could only drift by half a cent per line.
    per_line = sum((round_money(line.amount, "EUR").amount for line in quote.lines), Decimal(0))
    assert abs(per_line - quote.total.amount) <= Decimal("0.005") * len(quote.lines)


def test_rounding_once_differs_from_rounding_each_line() -> None:
    rates = {(Colour.MONO, MediaSize.A4): PaperRate(Decimal("0.005"), Decimal("0.005")),
             (Colour.MONO, MediaSize.A3): PaperRate(Decimal("0.005"), Decimal("0.005"))}
    plist = PriceList("half cents", "EUR", functions={Function.PRINT: FunctionPrices(rates)})
    job = PaperJob(sides={(Colour.MONO, MediaSize.A4): 1, (Colour.MONO, MediaSize.A3): 1})
    quote = price(job, plist)
    assert quote.total.amount == Decimal("0.01")  # per line it would be 0.01 + 0.01


@settings(deadline=None)  # no timing in tests: a loaded CI machine is slow
@given(st.lists(st.integers(min_value=2, max_value=20000), max_size=5, unique=True),
       unit_prices, counts, counts, st.booleans(), st.integers(1, 4))
def test_flat_tiers_equal_a_flat_price(
    starts: list[int], unit: Decimal, mono: int, already: int, duplex: bool, copies: int
) -> None:
    tiers = tuple(Tier(first, unit) for first in [1, *sorted(starts)])
    rate = {(Colour.MONO, MediaSize.A4): PaperRate(unit, unit)}
    flat = PriceList("flat", "EUR", functions={Function.PRINT: FunctionPrices(rate)})
    tiered = PriceList("tiered", "EUR", functions={Function.PRINT: FunctionPrices()},
                       volume=VolumePricing(tiers={Colour.MONO: tiers}))
    job = PaperJob.simple(mono=mono, duplex=duplex, copies=copies)
    before = PeriodVolume(mono=already)
    assert price(job, tiered, before).total == price(job, flat, before).total


@settings(deadline=None)  # no timing in tests: a loaded CI machine is slow
@given(price_lists(), st.integers(0, 2000), st.integers(0, 2000), volumes)
def test_splitting_a_job_in_two_costs_the_same_exactly(
    plist: PriceList, first: int, second: int, before: PeriodVolume
) -> None:
    assume(plist.duplex_charging is DuplexCharging.PER_SIDE)  # only per-side has volume rules
    whole = price(PaperJob.simple(mono=first + second), plist, before)
    a = price(PaperJob.simple(mono=first), plist, before)
    b = price(PaperJob.simple(mono=second), plist, before + a.counted)
    fee = plist.functions[Function.PRINT].job_fee
    extra_fee = fee if first and second else Decimal(0)
    assert a.exact_total + b.exact_total == whole.exact_total + extra_fee
