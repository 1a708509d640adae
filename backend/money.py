"""Money columns and parsing of amounts received over the API.

Amounts are stored as integers of 1/10 000 of the currency unit. Why not ``Numeric``:
SQLite has no exact decimal type (it would round through float), and an integer column
sums exactly on SQLite and PostgreSQL alike, so the ledger invariants can be checked
with plain ``SUM`` in SQL on both.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SCALE = Decimal("10000")
CENT = Decimal("0.01")
# The largest single amount a terminal may send: far above any print job, far below overflow.
MAX_AMOUNT = Decimal("1000000.00")


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
    """An API amount: a decimal string with at most 2 decimals, 0 <= amount <= MAX_AMOUNT.

    Raises ValueError with the reason; numbers (JSON floats) are refused on purpose.
    """
    if not isinstance(raw, str):
        raise ValueError("must be a decimal string such as \"1.50\", not a JSON number")
    try:
        amount = Decimal(raw.strip())
    except InvalidOperation as exc:
        raise ValueError(f"{raw!r} is not a decimal amount") from exc
    if not amount.is_finite():
        raise ValueError(f"{raw!r} is not a finite amount")
    if amount != amount.quantize(CENT):
        raise ValueError(f"{raw!r} has more than 2 decimals")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValueError(f"{raw!r} must be {'>=' if allow_zero else '>'} 0")
    if amount > MAX_AMOUNT:
        raise ValueError(f"{raw!r} exceeds the maximum {MAX_AMOUNT}")
    return amount.quantize(CENT)


def fmt(amount: Decimal) -> str:
    """Decimal to the API's string form with 2 decimals."""
    return str(amount.quantize(CENT))
