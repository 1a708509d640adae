"""Validation of TOML-loaded tables with messages that name file, key, value and expectation.

The caller reads the file (billing does no I/O) and passes its text and name. Every
problem in a file is collected before raising, in the project's shape
``file: dotted.key: 'value' what is allowed``, because an administrator fixing one
error per upload loses time.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from billing.money import MoneyError, parse_decimal

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    key: str
    value: object
    expected: str

    def __str__(self) -> str:
        if not self.key:
            return f"{self.file}: {self.expected}"
        if self.value is MISSING:
            return f"{self.file}: {self.key}: missing, {self.expected}"
        return f"{self.file}: {self.key}: {self.value!r} {self.expected}"


class ConfigError(ValueError):
    """A file that is not a valid price list or quota policy; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in problems))


MISSING: Any = object()


class Reader:
    """Walks a parsed TOML document, converting values and recording every problem."""

    def __init__(self, text: str, filename: str):
        self.file = filename
        self.problems: list[Problem] = []
        try:
            self.root: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            problem = Problem(filename, "", MISSING, f"is not valid TOML: {exc}")
            raise ConfigError([problem]) from exc

    def problem(self, key: str, value: object, expected: str) -> None:
        self.problems.append(Problem(self.file, key, value, expected))

    def finish(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    def check_keys(self, table: Mapping[str, Any], path: str, allowed: set[str]) -> None:
        """Unknown keys are errors: a typo must not silently fall back to a default."""
        for key in table:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.problem(where, table[key], "is not a known key; allowed here: "
                             + ", ".join(sorted(allowed)))

    def table(self, parent: Mapping[str, Any], key: str, path: str,
              required: bool = False) -> dict[str, Any] | None:
        where = f"{path}.{key}" if path else key
        value = parent.get(key, MISSING)
        if value is MISSING:
            if required:
                self.problem(where, MISSING, "expected a table")
            return None
        if not isinstance(value, dict):
            self.problem(where, value, "must be a table")
            return None
        return value

    def get(self, table: Mapping[str, Any], key: str, path: str,
            convert: Callable[[Any, str], T | None], default: T | None = None) -> T | None:
        """Convert ``table[key]``; a missing key gives ``default`` (None means required)."""
        where = f"{path}.{key}" if path else key
        value = table.get(key, MISSING)
        if value is MISSING:
            if default is None:
                self.problem(where, MISSING, "expected " + _expected_of(convert))
            return default
        return convert(value, where)

    # Converters: each returns the value or records a problem and returns None.

    def text(self, value: Any, where: str) -> str | None:
        if isinstance(value, str) and value.strip():
            return value
        self.problem(where, value, "must be a non-empty string")
        return None

    def price(self, value: Any, where: str) -> Decimal | None:
        """A non-negative decimal written as a string: "0.0725"."""
        try:
            amount = parse_decimal(value)
        except MoneyError:
            self.problem(where, value, 'must be a decimal amount written as a string, e.g. "0.05"')
            return None
        if amount < 0:
            self.problem(where, value, "must not be negative")
            return None
        return amount

    def count(self, value: Any, where: str) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        self.problem(where, value, "must be a whole number, 0 or more")
        return None

    def day(self, value: Any, where: str) -> date | None:
        if isinstance(value, date):
            return value
        self.problem(where, value, "must be a TOML date such as 2026-09-01 (no quotes)")
        return None

    def choice(self, kind: type[E]) -> Callable[[Any, str], E | None]:
        def convert(value: Any, where: str) -> E | None:
            for member in kind:
                if member.value == value:
                    return member
            self.problem(where, value, "must be " + _allowed(kind))
            return None
        convert.__doc__ = _allowed(kind)
        return convert


def _allowed(kind: type[enum.Enum]) -> str:
    return "one of " + ", ".join(f'"{member.value}"' for member in kind)


def _expected_of(convert: Callable[..., Any]) -> str:
    name = getattr(convert, "__name__", "")
    return {
        "text": "a non-empty string",
        "price": 'a decimal amount written as a string, e.g. "0.05"',
        "count": "a whole number, 0 or more",
        "day": "a TOML date such as 2026-09-01",
    }.get(name, convert.__doc__ or "a value")
