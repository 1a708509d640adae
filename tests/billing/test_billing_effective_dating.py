"""Effective dating: a change applies from the start of its accounting period, never before."""

from __future__ import annotations

from datetime import date

import pytest

from billing import AccountingPeriods, PaperJob, PriceBook, PricingContext, Scope, ScopeKind, price
from tests.billing.support import flat_list

JANUARY = flat_list("v1", mono="0.05", effective_from=date(2026, 1, 1))
MID_MARCH = flat_list("v2", mono="0.07", effective_from=date(2026, 3, 15))
ANYONE = PricingContext()


def test_change_applies_from_the_start_of_its_period() -> None:
    book = PriceBook([JANUARY, MID_MARCH])
    assert book.select(ANYONE, date(2026, 3, 1)).name == "v2"
    assert book.select(ANYONE, date(2026, 3, 31)).name == "v2"


def test_earlier_period_is_never_repriced() -> None:
    book = PriceBook([JANUARY, MID_MARCH])
    february = book.select(ANYONE, date(2026, 2, 28))
    assert february.name == "v1"
    assert str(price(PaperJob.simple(mono=100), february).total.amount) == "5.00"
    march = book.select(ANYONE, date(2026, 3, 2))
    assert str(price(PaperJob.simple(mono=100), march).total.amount) == "7.00"


def test_period_change_with_a_contract_start_day() -> None:
    # Periods run from the 15th: a change set on 10 March belongs to 15 Feb - 14 Mar.
    book = PriceBook([JANUARY, flat_list("v2", effective_from=date(2026, 3, 10))],
                     AccountingPeriods(start_day=15))
    assert book.select(ANYONE, date(2026, 2, 14)).name == "v1"
    assert book.select(ANYONE, date(2026, 2, 15)).name == "v2"


def test_period_boundaries_across_a_year_end() -> None:
    periods = AccountingPeriods(start_day=15)
    assert periods.start_of(date(2026, 1, 3)) == date(2025, 12, 15)
    assert periods.next_start(date(2025, 12, 20)) == date(2026, 1, 15)


def test_future_version_not_yet_in_force_falls_back_to_less_specific() -> None:
    staff_from_april = flat_list("staff", scope=Scope(ScopeKind.GROUP, "staff"),
                                 effective_from=date(2026, 4, 1))
    book = PriceBook([JANUARY, staff_from_april])
    staff = PricingContext(groups=("staff",))
    assert book.select(staff, date(2026, 3, 31)).name == "v1"
    assert book.select(staff, date(2026, 4, 1)).name == "staff"


def test_two_versions_on_the_same_day_are_refused() -> None:
    with pytest.raises(ValueError, match="both for default from 2026-01-01"):
        PriceBook([JANUARY, flat_list("v1 again", effective_from=date(2026, 1, 1))])


def test_bad_period_start_day() -> None:
    with pytest.raises(ValueError, match=r"1\.\.28"):
        AccountingPeriods(start_day=31)
