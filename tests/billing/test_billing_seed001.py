"""Seed 001's worked example and the tier boundaries around it."""

from __future__ import annotations

from decimal import Decimal

from billing import (
    Colour,
    PaperJob,
    PeriodVolume,
    PriceList,
    Tier,
    load_price_list,
    price,
    split_across_tiers,
)
from tests.billing.support import SEED_FILE

MONO_TIERS = (
    Tier(1, Decimal("10")), Tier(101, Decimal("8")),
    Tier(1001, Decimal("6")), Tier(10001, Decimal("4")),
)


def seed_list() -> PriceList:
    return load_price_list(SEED_FILE.read_text(encoding="utf-8"), str(SEED_FILE))


def test_seed_example_mono_colour_and_sum_exact() -> None:
    quote = price(PaperJob.simple(mono=13207, colour=11216), seed_list())
    assert quote.subtotal(Colour.MONO) == Decimal("75028")
    assert quote.subtotal(Colour.COLOUR) == Decimal("86723.20")
    assert str(quote.total.amount) == "161751.20"
    assert quote.counted == PeriodVolume(mono=13207, colour=11216)


def test_seed_example_rows_match_the_seed_table() -> None:
    quote = price(PaperJob.simple(mono=13207), seed_list())
    rows = [(int(line.quantity), line.unit_price, line.amount) for line in quote.lines]
    # DE/À/QUANTITÉ/PRIX/PRIX FINAL rows of the MONO table in seed 001.
    assert rows == [
        (100, Decimal("10"), Decimal("1000")), (900, Decimal("8"), Decimal("7200")),
        (9000, Decimal("6"), Decimal("54000")), (3207, Decimal("4"), Decimal("12828")),
    ]


def test_seed_example_same_total_when_printed_as_many_jobs() -> None:
    plist = seed_list()
    volume, exact = PeriodVolume(), Decimal(0)
    for size in (1, 99, 1, 750, 151, 5000, 3998, 1, 3206):  # 13 207 pages in 9 jobs
        quote = price(PaperJob.simple(mono=size), plist, volume)
        exact += quote.exact_total
        volume = volume + quote.counted
    assert volume.mono == 13207
    assert exact == Decimal("75028")


def test_job_ending_exactly_on_a_boundary_stays_in_its_tier() -> None:
    slices = split_across_tiers(MONO_TIERS, already=0, count=100)
    assert [(s.first, s.last, s.price) for s in slices] == [(1, 100, Decimal("10"))]
    following = split_across_tiers(MONO_TIERS, already=100, count=1)
    assert [(s.first, s.last, s.price) for s in following] == [(101, 101, Decimal("8"))]


def test_job_starting_exactly_after_a_boundary() -> None:
    slices = split_across_tiers(MONO_TIERS, already=1000, count=9000)
    assert [(s.first, s.last, s.price) for s in slices] == [(1001, 10000, Decimal("6"))]


def test_job_crossing_two_boundaries_is_priced_per_tier() -> None:
    quote = price(PaperJob.simple(mono=1000), seed_list(), PeriodVolume(mono=50))
    parts = [(int(line.quantity), line.unit_price) for line in quote.lines]
    assert parts == [(50, Decimal("10")), (900, Decimal("8")), (50, Decimal("6"))]
    assert quote.total.amount == Decimal("8000.00")  # 500 + 7200 + 300


def test_volume_of_the_other_colour_does_not_move_tiers() -> None:
    plist = seed_list()
    alone = price(PaperJob.simple(colour=10), plist)
    after_mono = price(PaperJob.simple(colour=10), plist, PeriodVolume(mono=20000))
    assert alone.total == after_mono.total
