"""Pricing lines, included pages, per-sheet duplex, fees, time, 3D printing and estimates."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from billing import (
    Change,
    Colour,
    Function,
    FunctionPrices,
    LineKind,
    MediaSize,
    PaperJob,
    PaperRate,
    PeriodVolume,
    PriceList,
    PricingError,
    Print3DJob,
    estimate,
    load_price_list,
    price,
)
from tests.billing.support import REPO, flat_list

CAMPUS = REPO / "config" / "pricelists" / "campus-default.toml"
PER_SHEET = REPO / "config" / "pricelists" / "device-model-c5535.toml"


def load(path: Path) -> PriceList:
    return load_price_list(path.read_text(encoding="utf-8"), str(path))


def test_breakdown_line_as_the_kiosk_shows_it() -> None:
    quote = price(PaperJob.simple(colour=12), flat_list("flat"))
    assert [line.text("EUR") for line in quote.lines] == ["12 colour A4 pages x 0.25 = 3.00"]


def test_switch_to_mono_saving() -> None:
    result = estimate(PaperJob.simple(colour=12), flat_list("flat"))
    mono = result.alternative(Change.MONO)
    assert mono is not None and mono.text() == "switch to mono: save 2.40"
    assert result.alternative(Change.DUPLEX) is not None  # offered even when it saves nothing


def test_duplex_alternative_with_a_cheaper_duplex_side() -> None:
    result = estimate(PaperJob.simple(mono=600, colour=10), load(CAMPUS),
                      PeriodVolume(mono=500))
    duplex = result.alternative(Change.DUPLEX)
    assert duplex is not None
    # 600 mono at 0.05 -> 0.04 and 10 colour at 0.25 -> 0.22 per side.
    assert duplex.saving.amount == Decimal("6.30")


def test_no_alternatives_for_a_mono_duplex_job() -> None:
    assert estimate(PaperJob.simple(mono=4, duplex=True), flat_list("flat")).alternatives == ()


def test_alternative_that_cannot_be_priced_is_left_out() -> None:
    rates = {(Colour.COLOUR, MediaSize.A3): PaperRate(Decimal("0.50"), Decimal("0.50"))}
    plist = PriceList("colour only", "EUR", functions={Function.PRINT: FunctionPrices(rates)})
    result = estimate(PaperJob.simple(colour=1, size=MediaSize.A3), plist)
    assert [a.change for a in result.alternatives] == []


def test_included_pages_are_consumed_first_across_jobs() -> None:
    plist = load(CAMPUS)  # 500 mono pages included, then 0.05
    first = price(PaperJob.simple(mono=450), plist)
    assert first.total.amount == 0 and first.lines[0].kind is LineKind.INCLUDED
    assert first.lines[0].text("EUR") == "450 mono A4 pages included = 0.00"
    second = price(PaperJob.simple(mono=100), plist, first.counted)
    kinds = [(line.kind, int(line.quantity)) for line in second.lines]
    assert kinds == [(LineKind.INCLUDED, 50), (LineKind.PAGES, 50)]
    assert second.total.amount == Decimal("2.50")


def test_included_pages_do_not_cover_scans() -> None:
    quote = price(PaperJob.simple(colour=10, function=Function.SCAN), load(CAMPUS))
    assert quote.total.amount == Decimal("0.10") and quote.counted == PeriodVolume()


def test_per_sheet_duplex_counts_sheets_per_copy() -> None:
    plist = load(PER_SHEET)
    quote = price(PaperJob.simple(mono=5, duplex=True, copies=2), plist)
    # 5 sides per copy -> 3 sheets per copy, 6 sheets at 0.09.
    assert [line.text("EUR") for line in quote.lines] == ["6 mono A4 duplex sheets x 0.09 = 0.54"]
    simplex = price(PaperJob.simple(mono=5, copies=2), plist)
    assert simplex.total.amount == Decimal("0.60")


def test_job_fee_and_time_per_minute() -> None:
    plist = load(CAMPUS)
    fax = price(PaperJob.simple(mono=4, function=Function.FAX), plist)
    assert fax.exact_total == Decimal("0.4900")  # 4 x 0.0725 + 0.20 fee
    staff = load(REPO / "config" / "pricelists" / "staff.toml")
    timed = price(PaperJob.simple(mono=10, minutes=Decimal("2.5")), staff)
    assert timed.total.amount == Decimal("0.35")  # 10 x 0.03 + 2.5 min x 0.02


def test_empty_job_costs_nothing_even_with_a_job_fee() -> None:
    assert price(PaperJob(Function.FAX), load(CAMPUS)).total.amount == 0


def test_total_is_rounded_once_half_up() -> None:
    plist = load(CAMPUS)
    quote = price(PaperJob.simple(mono=3, function=Function.FAX), plist)
    # 3 x 0.0725 = 0.2175, + 0.20 fee = 0.4175 -> 0.42 (the line alone would show 0.22).
    assert quote.total.amount == Decimal("0.42")
    two = price(PaperJob.simple(mono=2, function=Function.FAX), plist)
    assert two.total.amount == Decimal("0.35")  # 0.145 + 0.20 = 0.345 -> 0.35 half-up


def test_3d_print_by_gram_hour_and_setup_fee() -> None:
    quote = price(Print3DJob("PLA", Decimal("42.5"), Decimal("95")), load(CAMPUS))
    # 42.5 g x 0.05 = 2.125; 95 min at 0.50/h = 0.791666...; set-up 1.00 -> 3.916... -> 3.92
    assert quote.total.amount == Decimal("3.92")
    assert quote.lines[1].text("EUR") == "95 min printer time at 0.50 per hour = 0.79"


def test_unknown_material_names_what_is_priced() -> None:
    with pytest.raises(PricingError, match=r"'ABS' .*PETG, PLA, TPU"):
        price(Print3DJob("ABS", Decimal("1"), Decimal("1")), load(CAMPUS))


def test_missing_rate_names_function_colour_and_size() -> None:
    with pytest.raises(PricingError, match="no print rate for colour A3"):
        price(PaperJob.simple(colour=1, size=MediaSize.A3), flat_list("flat"))


def test_function_without_prices() -> None:
    with pytest.raises(PricingError, match="no prices for scan"):
        price(PaperJob.simple(mono=1, function=Function.SCAN), flat_list("flat"))


def test_multi_size_job_advances_tiers_across_sizes() -> None:
    seed = load(REPO / "config" / "pricelists" / "seed-001-volume-tiers.toml")
    job = PaperJob(sides={(Colour.MONO, MediaSize.A4): 60, (Colour.MONO, MediaSize.A3): 60})
    quote = price(job, seed)
    assert quote.exact_total == Decimal(60 * 10 + 40 * 10 + 20 * 8)


def test_bad_jobs_are_refused() -> None:
    with pytest.raises(ValueError, match="copies"):
        PaperJob.simple(mono=1, copies=0)
    with pytest.raises(ValueError, match="negative"):
        PaperJob.simple(mono=-1)
    with pytest.raises(ValueError, match="grams"):
        Print3DJob("PLA", Decimal("-1"), Decimal("0"))


def test_callers_decimal_precision_does_not_change_a_price() -> None:
    from decimal import localcontext
    rates = {(Colour.MONO, MediaSize.A4): PaperRate(Decimal("0.0725"), Decimal("0.0725"))}
    plist = PriceList("fine", "EUR", functions={Function.PRINT: FunctionPrices(rates)})
    with localcontext(prec=3):
        total = price(PaperJob.simple(mono=13207), plist).total
    assert total.amount == Decimal("957.51")  # 957.5075 rounded once


def test_tiers_count_only_the_pages_beyond_the_included_ones() -> None:
    from billing import Tier, VolumePricing
    tiers = (Tier(1, Decimal("10")), Tier(101, Decimal("8")))
    plist = PriceList("subscription", "EUR", functions={Function.PRINT: FunctionPrices()},
                      volume=VolumePricing(included={Colour.MONO: 100},
                                           tiers={Colour.MONO: tiers}))
    quote = price(PaperJob.simple(mono=250), plist)
    assert [(line.kind, int(line.quantity), line.unit_price) for line in quote.lines] == [
        (LineKind.INCLUDED, 100, Decimal(0)),
        (LineKind.TIER, 100, Decimal("10")),
        (LineKind.TIER, 50, Decimal("8")),
    ]
    later = price(PaperJob.simple(mono=1), plist, PeriodVolume(mono=250))
    assert later.lines[0].unit_price == Decimal("8")
