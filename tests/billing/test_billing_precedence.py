"""Scope precedence, one test per rule: user > cost centre > group > device > model > default."""

from __future__ import annotations

from datetime import date

import pytest

from billing import NoPriceList, PriceBook, PricingContext, Scope, ScopeKind
from tests.billing.support import flat_list

DAY = date(2026, 5, 10)
DEFAULT = flat_list("default")
MODEL = flat_list("model", scope=Scope(ScopeKind.DEVICE_MODEL, "Canon iR-ADV C5535"))
DEVICE = flat_list("device", scope=Scope(ScopeKind.DEVICE, "mfp-library-2"))
STAFF = flat_list("staff", scope=Scope(ScopeKind.GROUP, "staff"))
STUDENTS = flat_list("students", scope=Scope(ScopeKind.GROUP, "students"))
CENTRE = flat_list("cost centre", scope=Scope(ScopeKind.COST_CENTRE, "CC-100"))
USER = flat_list("user", scope=Scope(ScopeKind.USER, "alice"))
BOOK = PriceBook([DEFAULT, MODEL, DEVICE, STAFF, STUDENTS, CENTRE, USER])

EVERYTHING = PricingContext(
    user="alice", groups=("staff",), cost_centre="CC-100",
    device="mfp-library-2", device_model="Canon iR-ADV C5535",
)


def chosen(context: PricingContext, book: PriceBook = BOOK) -> str:
    return book.select(context, DAY).name


def test_default_applies_when_nothing_more_specific_matches() -> None:
    assert chosen(PricingContext(user="bob", groups=("guests",), device="mfp-9")) == "default"


def test_device_model_beats_default() -> None:
    assert chosen(PricingContext(device="mfp-9", device_model="Canon iR-ADV C5535")) == "model"


def test_device_beats_device_model() -> None:
    context = PricingContext(device="mfp-library-2", device_model="Canon iR-ADV C5535")
    assert chosen(context) == "device"


def test_group_beats_device() -> None:
    context = PricingContext(groups=("students",), device="mfp-library-2")
    assert chosen(context) == "students"


def test_cost_centre_beats_group() -> None:
    context = PricingContext(groups=("staff",), cost_centre="CC-100", device="mfp-library-2")
    assert chosen(context) == "cost centre"


def test_user_beats_everything() -> None:
    assert chosen(EVERYTHING) == "user"


def test_staff_group_gets_the_separate_staff_list() -> None:
    assert chosen(PricingContext(user="carol", groups=("staff",))) == "staff"
    assert chosen(PricingContext(user="dave", groups=("students",))) == "students"


def test_first_listed_group_wins_when_a_user_is_in_several() -> None:
    assert chosen(PricingContext(groups=("staff", "students"))) == "staff"
    assert chosen(PricingContext(groups=("students", "staff"))) == "students"


def test_whole_list_is_used_not_merged() -> None:
    # The device list has no colour A3 rate and the default neither: nothing is borrowed.
    plist = BOOK.select(PricingContext(device="mfp-library-2"), DAY)
    assert plist is DEVICE


def test_no_default_and_no_match_is_an_error() -> None:
    book = PriceBook([USER])
    with pytest.raises(NoPriceList, match="2026-05-10"):
        book.select(PricingContext(user="bob"), DAY)


def test_a_book_has_one_currency() -> None:
    from dataclasses import replace
    with pytest.raises(ValueError, match="one currency"):
        PriceBook([DEFAULT, replace(USER, currency="CHF")])
