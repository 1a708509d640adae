"""Money: minor units, construction from strings only, one half-up rounding; locale formats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from billing import Money, MoneyError, format_money, minor_units, parse_decimal, round_money


def test_minor_units_per_currency() -> None:
    assert (minor_units("EUR"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)
    with pytest.raises(MoneyError, match="unknown currency 'EURO'"):
        minor_units("EURO")


def test_money_refuses_floats_and_extra_decimals() -> None:
    with pytest.raises(MoneyError, match="string"):
        parse_decimal(0.1)  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="Decimal"):
        Money(0.1, "EUR")  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="more decimals than EUR"):
        Money.of("0.001", "EUR")
    with pytest.raises(MoneyError, match="cannot combine EUR with CHF"):
        _ = Money.of("1", "EUR") + Money.of("1", "CHF")


def test_round_half_up_not_bankers() -> None:
    assert round_money(Decimal("0.125"), "EUR").amount == Decimal("0.13")
    assert round_money(Decimal("0.135"), "EUR").amount == Decimal("0.14")
    assert round_money(Decimal("-0.125"), "EUR").amount == Decimal("-0.13")
    assert round_money(Decimal("2.5"), "JPY").amount == Decimal("3")
    assert Money.of("5", "EUR") == Money.of("5.00", "EUR")
    assert Money.of("12.5", "EUR").minor == 1250


def test_locale_examples() -> None:
    amount = Money.of("12.50", "EUR")
    assert format_money(amount, "en") == "€12.50"
    assert format_money(amount, "fr") == "12,50\u00a0€"
    assert format_money(amount, "fr_FR") == "12,50\u00a0€"
    with pytest.raises(ValueError, match="'xx'"):
        format_money(amount, "xx")


amounts = st.decimals(min_value=Decimal("-99999999"), max_value=Decimal("99999999"),
                      places=2, allow_nan=False, allow_infinity=False)


@settings(deadline=None)  # no timing in tests: a loaded CI machine is slow
@given(amounts, st.sampled_from(["EUR", "USD", "GBP", "CHF", "CZK", "JPY", "PLN"]),
       st.sampled_from(["en", "fr", "de"]))
def test_format_agrees_with_babel(value: Decimal, currency: str, locale: str) -> None:
    money = round_money(value, currency)
    assert format_money(money, locale) == format_currency(money.amount, currency, locale=locale)


def test_money_arithmetic_ignores_a_low_caller_precision() -> None:
    from decimal import localcontext
    with localcontext(prec=3):
        total = Money.of("161751.20", "EUR") + Money.of("0.01", "EUR")
        rounded = round_money(Decimal("957.5075"), "EUR")
    assert total.amount == Decimal("161751.21") and rounded.amount == Decimal("957.51")
