"""Money columns and parsing of amounts received over the API.

Amounts are stored as integers of 1/10 000 of the currency unit. Why not ``Numeric``:
SQLite has no exact decimal type (it would round through float), and an integer column
sums exactly on SQLite and PostgreSQL alike, so the ledger invariants can be checked
with plain ``SUM`` in SQL on both.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SCALE = Decimal("10000")
CENT = Decimal("0.01")
# The largest single amount a terminal may send: far above any print job, far below overflow.
MAX_AMOUNT = Decimal("1000000.00")
# The one accepted spelling of an amount: ASCII digits, at most 7 before the point and 2
# after. Why a pattern before Decimal(): Decimal() also takes "1e30", "1_0", "+3",
# " 2.50 ", Arabic-Indic digits and "NaN", and an exponent can overflow its context
# (InvalidOperation, a 500). The pattern is also what the OpenAPI spec declares.
AMOUNT_PATTERN = r"^[0-9]{1,7}(\.[0-9]{1,2})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)
# Well written but too long: the person meant a (too) large amount, so say that. Capped at
# 40 digits so that a 10 000-digit string is not matched at length.
_TOO_MANY_DIGITS = re.compile(r"[0-9]{8,40}(\.[0-9]{1,2})?")
# The largest balance any account may reach (in or out): a posting beyond it is refused,
# so that a cached balance or a SUM of entries can never overflow a 64-bit integer
# (9.2e18 units of 1/10 000, i.e. 9.2e14 of the currency) on SQLite or PostgreSQL.
MAX_BALANCE = Decimal("1000000000.00")


class Money(TypeDecorator[Decimal]):
    """A Decimal stored as an exact integer count of 1/10 000 units."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = value * SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than 4 decimals")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_storage(value)


def from_storage(value: int | None) -> Decimal:
    """A raw integer from an aggregate query (``SUM``) back to a Decimal."""
    raw = Decimal(int(value or 0)) / SCALE
    return raw.quantize(CENT) if raw == raw.quantize(CENT) else raw


def parse_amount(raw: object, *, allow_zero: bool = True) -> Decimal:
    """An amount from outside (API, CLI, CSV): ``AMOUNT_PATTERN``, 0 <= amount <= MAX_AMOUNT.

    Raises ValueError with the reason; numbers (JSON floats) are refused on purpose, and
    so is anything but the plain form (no sign, exponent, blank, underscore, other digits).
    """
    if not isinstance(raw, str):
        raise ValueError("must be a decimal string such as \"1.50\", not a JSON number")
    if raw.startswith("-") and _AMOUNT.fullmatch(raw[1:]) is not None:
        raise ValueError(f"{raw!r} must be {'>=' if allow_zero else '>'} 0")
    if _TOO_MANY_DIGITS.fullmatch(raw) is not None:
        raise ValueError(f"{raw!r} exceeds the maximum {MAX_AMOUNT}")
    if _AMOUNT.fullmatch(raw) is None:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise ValueError(f"{shown!r} is not an amount: write digits with at most 2 decimals, "
                         "such as \"12.50\" (no sign, exponent, spaces or separators)")
    amount = Decimal(raw)
    if amount == 0 and not allow_zero:
        raise ValueError(f"{raw!r} must be > 0")
    if amount > MAX_AMOUNT:
        raise ValueError(f"{raw!r} exceeds the maximum {MAX_AMOUNT}")
    return amount.quantize(CENT)


def parse_typed_amount(raw: str, *, allow_zero: bool = True) -> Decimal:
    """An amount a person typed in a web form: as :func:`parse_amount`, after trimming
    spaces, and with a decimal comma read as a point ("5,00" is how a French clerk writes
    five euros). Only one separator: "1,234.50" and "1.234,50" stay refused, since
    guessing which is the thousands separator could post a hundred times the amount."""
    text = raw.strip()
    if "," in text and "." not in text and text.count(",") == 1:
        text = text.replace(",", ".")
    return parse_amount(text, allow_zero=allow_zero)


def parse_signed_amount(raw: object) -> Decimal:
    """A non-zero correction (the CLI's ``adjust``): an optional ``-``, then an amount as
    :func:`parse_amount` reads it, with the same bounds."""
    if not isinstance(raw, str):
        raise ValueError("must be a decimal string such as \"-2.50\"")
    negative = raw.startswith("-")
    amount = parse_amount(raw[1:] if negative else raw, allow_zero=False)
    return -amount if negative else amount


def fmt(amount: Decimal) -> str:
    """Decimal to the API's string form with 2 decimals."""
    return str(amount.quantize(CENT))
