"""Errors of the card-reader library, each naming what was wrong and where.

They are plain ``ValueError`` subclasses so that a caller that does not know this library
still gets a sensible exception type; the terminal translates them at its wiring boundary.
"""

from __future__ import annotations


class CardConfigError(ValueError):
    """A configuration value that cannot be used: names the key, the value and what is allowed."""

    def __init__(self, key: str, value: object, expected: str) -> None:
        super().__init__(f"{key}: {value!r} {expected}")
        self.key = key
        self.value = value
        self.expected = expected


class CardNumberError(ValueError):
    """A raw card read that a normalisation rule cannot turn into a card number."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"card read {raw!r}: {reason}")
        self.raw = raw
        self.reason = reason


class NoRuleFits(ValueError):
    """No normalisation rule maps every example pair to its stored number."""
