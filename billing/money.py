"""Money: a Decimal amount in a currency's minor units, and the one rounding rule.

Unit prices may carry more decimals than the currency (0.0725 per page), so prices are
multiplied as plain Decimals and only a total becomes :class:`Money`, rounded once,
half-up, to the currency's minor unit. Rounding each line and then adding would let a
long job drift by up to half a cent per line; rounding once keeps the charge equal to
the price list's arithmetic. Amounts are built from strings, never from floats: a float
already carries a binary approximation (0.1 is 0.1000000000000000055...).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

# ISO 4217 minor units of the currencies an operator is likely to configure. An unknown
# code is an error rather than a guess: charging yen with two decimals would be wrong.
MINOR_UNITS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "CZK": 2, "PLN": 2, "HUF": 2, "SEK": 2,
    "NOK": 2, "DKK": 2, "RON": 2, "CAD": 2, "AUD": 2, "NZD": 2, "MAD": 2, "XOF": 0,
    "XAF": 0, "JPY": 0, "KRW": 0, "ISK": 0, "KWD": 3, "BHD": 3, "TND": 3,
}

# Money arithmetic runs in its own context whatever the caller's thread context says
# (a backend lowering precision elsewhere must not round amounts): 34 digits, decimal128.
WIDE = Context(prec=34)


class MoneyError(ValueError):
    """An amount or a currency that cannot be money: says which value and why."""


def minor_units(currency: str) -> int:
    """Decimals of ``currency`` (2 for EUR, 0 for JPY); unknown codes are refused."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        known = ", ".join(sorted(MINOR_UNITS))
        raise MoneyError(f"unknown currency {currency!r}: expected one of {known}") from None


def parse_decimal(text: str) -> Decimal:
    """A finite Decimal from a string such as ``"0.0725"``; floats are refused on purpose."""
    if not isinstance(text, str):
        raise MoneyError(f"amount {text!r} must be a string such as \"0.05\", not a number")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise MoneyError(f"{text!r} is not a decimal number such as \"0.05\"") from None
    if not value.is_finite():
        raise MoneyError(f"{text!r} is not a finite decimal number")
    return value


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency``: Decimal("0.01") for EUR, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-minor_units(currency))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount already in the currency's minor units, with its ISO 4217 code.

    Construction refuses an amount with more decimals than the currency has, so an
    unrounded product can never pass for a charge by accident; use :func:`round_money`.
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or isinstance(self.amount, bool):
            raise MoneyError(f"amount {self.amount!r} must be a Decimal built from a string")
        if not self.amount.is_finite():
            raise MoneyError(f"amount {self.amount!r} is not finite")
        q = quantum(self.currency)
        try:
            normal = self.amount.quantize(q, context=WIDE)
        except InvalidOperation:
            raise MoneyError(f"amount {self.amount} is too large") from None
        if normal != self.amount:
            raise MoneyError(
                f"{self.amount} has more decimals than {self.currency} allows "
                f"({minor_units(self.currency)}); round it with round_money()"
            )
        # One representation per value: 5 and 5.00 (and -0) print and compare the same way.
        object.__setattr__(self, "amount", normal if normal else Decimal(0).quantize(q))

    @classmethod
    def of(cls, text: str, currency: str) -> Money:
        """Exact money from a string (``Money.of("12.50", "EUR")``); extra decimals fail."""
        return cls(parse_decimal(text), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @property
    def minor(self) -> int:
        """The amount in minor units (cents): what a ledger stores as an integer."""
        return int(self.amount.scaleb(minor_units(self.currency)))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(WIDE.add(self.amount, other.amount), self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(WIDE.subtract(self.amount, other.amount), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def round_money(exact: Decimal, currency: str) -> Money:
    """Round an exact amount once, half-up (0.005 -> 0.01), to ``currency``'s minor unit."""
    return Money(exact.quantize(quantum(currency), rounding=ROUND_HALF_UP, context=WIDE), currency)
