"""Turn what a reader gives into the one card number the backend knows.

The same MIFARE card reads as ``04A1B2C3`` over PC/SC (UID bytes in hex, as sent) and as
``3283265796`` on a keyboard-wedge reader that types the UID bytes reversed, in decimal.
Accounts are keyed by one number per card, so each reader gets a rule that maps its raw
output to the site's canonical form. The steps run in a fixed order, which keeps the rule
explainable in one sentence:

1. ``extract``: a regular expression; its ``id`` group, else group 1, else the whole match.
2. ``input``: read the digits as ``hex`` (separators ``:``, ``-`` and spaces ignored) or ``dec``.
3. ``reverse_bytes``: reverse the byte order of the value, over ``bytes`` bytes (0 = as many
   as the input has: half the hex digits, or the fewest that hold a decimal value).
4. ``output``: write the value as ``hex`` (two digits per byte, ``hex_case`` upper or lower)
   or ``dec`` (no leading zeros).
5. ``strip_zeros``: drop leading zeros.
6. ``length``: a fixed length (0 = free): pad with leading zeros, or keep the last digits.

Configuration comes from a plain dict (the terminal's TOML ``normalise`` table); unknown
keys and bad values raise :class:`CardConfigError` naming the key, the value and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Literal

from drivers.cards.errors import CardConfigError, CardNumberError

Base = Literal["hex", "dec"]
HexCase = Literal["upper", "lower"]
_BASES: tuple[Base, ...] = ("hex", "dec")
_HEX_SEPARATORS = re.compile(r"[\s:\-]")
_HEX_DIGITS = re.compile(r"[0-9A-Fa-f]+")
_DEC_DIGITS = re.compile(r"[0-9]+")
MAX_BYTES = 32
MAX_LENGTH = 64


@dataclass(frozen=True)
class NormalisationRule:
    """One reader's mapping from raw read to card number; the defaults change nothing but case."""

    extract: str | None = None
    input: Base = "hex"
    reverse_bytes: bool = False
    bytes: int = 0
    output: Base = "hex"
    hex_case: HexCase = "upper"
    strip_zeros: bool = False
    length: int = 0

    def __post_init__(self) -> None:
        if self.extract is not None:
            try:
                re.compile(self.extract)
            except re.error as exc:
                raise CardConfigError(
                    "extract", self.extract, f"is not a valid regular expression ({exc})"
                ) from exc

    def apply(self, raw: str) -> str:
        """The card number for ``raw``; :class:`CardNumberError` says why when there is none."""
        text = self._extracted(raw.strip())
        value, width = self._parsed(raw, text)
        if self.reverse_bytes:
            value = int.from_bytes(value.to_bytes(width, "big"), "little")
        if self.output == "hex":
            number = format(value, f"0{2 * width}{'X' if self.hex_case == 'upper' else 'x'}")
        else:
            number = str(value)
        if self.strip_zeros:
            number = number.lstrip("0") or "0"
        if self.length:
            number = number.rjust(self.length, "0")[-self.length :]
        return number

    def _extracted(self, text: str) -> str:
        if self.extract is None:
            return text
        match = re.search(self.extract, text)
        if match is None:
            raise CardNumberError(text, f"does not match extract pattern {self.extract!r}")
        if "id" in match.re.groupindex:
            part = match.group("id")
        elif match.re.groups:
            part = match.group(1)
        else:
            part = match.group(0)
        if not part:
            raise CardNumberError(text, f"extract pattern {self.extract!r} captured nothing")
        return str(part)

    def _parsed(self, raw: str, text: str) -> tuple[int, int]:
        """The value and its width in bytes."""
        if self.input == "hex":
            digits = _HEX_SEPARATORS.sub("", text)
            if not digits or not _HEX_DIGITS.fullmatch(digits):
                raise CardNumberError(raw, f"{text!r} is not hexadecimal")
            value = int(digits, 16)
            natural = (len(digits) + 1) // 2
        else:
            if not _DEC_DIGITS.fullmatch(text):
                raise CardNumberError(raw, f"{text!r} is not decimal")
            value = int(text)
            natural = max(1, (value.bit_length() + 7) // 8)
        width = self.bytes or natural
        if value.bit_length() > 8 * width:
            raise CardNumberError(raw, f"value does not fit in {width} bytes")
        return value, width

    def to_config(self) -> dict[str, str | int | bool]:
        """The rule as the TOML table :func:`rule_from_config` reads (defaults left out)."""
        default = NormalisationRule()
        out: dict[str, str | int | bool] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value != getattr(default, field.name):
                out[field.name] = value
        return out

    def describe(self) -> str:
        """The rule in one sentence, shown to the operator for confirmation."""
        steps: list[str] = []
        if self.extract is not None:
            steps.append(f"take the part matching {self.extract}")
        steps.append("read it as " + ("hexadecimal" if self.input == "hex" else "decimal"))
        if self.reverse_bytes:
            over = f" over {self.bytes} bytes" if self.bytes else ""
            steps.append(f"reverse the byte order{over}")
        elif self.bytes:
            steps.append(f"treat it as {self.bytes} bytes")
        if self.output == "hex":
            steps.append(f"write it as {self.hex_case}-case hexadecimal")
        else:
            steps.append("write it as decimal")
        if self.strip_zeros:
            steps.append("drop leading zeros")
        if self.length:
            steps.append(
                f"make it exactly {self.length} digits (zeros added in front, or the last "
                f"{self.length} kept)"
            )
        sentence = ", ".join(steps)
        return sentence[0].upper() + sentence[1:] + "."


def rule_from_config(config: Mapping[str, object], section: str = "normalise") -> NormalisationRule:
    """Build a rule from a TOML table, refusing unknown keys and values of the wrong kind."""
    known = {field.name for field in fields(NormalisationRule)}
    for key in config:
        if key not in known:
            raise CardConfigError(
                f"{section}.{key}", config[key], f"is not a known key ({', '.join(sorted(known))})"
            )
    kwargs: dict[str, object] = {}
    for key, value in config.items():
        name = f"{section}.{key}"
        if key == "extract":
            if not isinstance(value, str) or not value:
                raise CardConfigError(name, value, "is not a non-empty regular expression string")
        elif key in ("input", "output"):
            if value not in _BASES:
                raise CardConfigError(name, value, 'is not one of "hex", "dec"')
        elif key == "hex_case":
            if value not in ("upper", "lower"):
                raise CardConfigError(name, value, 'is not one of "upper", "lower"')
        elif key in ("reverse_bytes", "strip_zeros"):
            if not isinstance(value, bool):
                raise CardConfigError(name, value, "is not true or false")
        elif key == "bytes":
            _check_int(name, value, 0, MAX_BYTES)
        elif key == "length":
            _check_int(name, value, 0, MAX_LENGTH)
        kwargs[key] = value
    try:
        return NormalisationRule(**kwargs)  # type: ignore[arg-type]
    except CardConfigError as exc:
        raise CardConfigError(f"{section}.{exc.key}", exc.value, exc.expected) from None


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CardConfigError(name, value, f"is not an integer between {low} and {high}")
