"""Voucher codes: 65 random bits in Crockford base32, grouped by four, with a check character.

A voucher code is a bearer secret printed on a card, so it must survive being read aloud,
typed on a touch screen and scanned from a QR code. Crockford's alphabet drops I, L, O and
U, so no two characters look alike, and :func:`canonical` maps what people type anyway
(o for 0, i or l for 1, any case, spaces and dashes) onto it.

The check character is what rivals lack: without it, every typo costs the user one of
their few allowed guesses. Crockford's own mod-37 check needs five extra symbols
(``*~$=U``) that are not on the keyboard, so ours is computed in GF(32) instead: the
characters are field elements ``d_i`` and the check ``c`` makes
``sum(d_i * a**i) + c * a**n == 0`` for a primitive element ``a``. A substitution at
position i changes the sum by ``e * a**i`` (never zero); swapping unequal neighbours
changes it by ``(d_i - d_j) * a**i * (1 - a)`` (never zero, since ``a != 1``); so both are
always caught, at every position, the check character included.

The batch prefix ("LIB") is printed before the code for people who sort cards, but it is
not part of the secret: only the 14-character body is hashed and checked. What someone types
before the body is ignored, which is why a prefix may use letters (L, I, O) that the code
alphabet leaves out.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_LENGTH = 13  # 13 x 5 = 65 random bits
BODY_LENGTH = DATA_LENGTH + 1  # the data and its check character
GROUP = 4
MAX_PREFIX = 6

_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
_PREFIX = re.compile(r"^[A-Z0-9]{1,6}$")

# GF(32) with the primitive polynomial x^5 + x^2 + 1: exponent and logarithm tables.
_EXP: list[int] = []
_LOG = [0] * 32
_element = 1
for _power in range(31):
    _EXP.append(_element)
    _LOG[_element] = _power
    _element <<= 1
    if _element & 0b100000:
        _element ^= 0b100101


def _times_power(value: int, power: int) -> int:
    """``value * a**power`` in GF(32)."""
    if value == 0:
        return 0
    return _EXP[(_LOG[value] + power) % 31]


# _WEIGHTED[i][char] = value(char) * a**i: a batch of 100 000 codes is 1.4 million of these
# products, so they are looked up, not computed.
_WEIGHTED = [{char: _times_power(value, position) for char, value in _VALUE.items()}
             for position in range(31)]


def _syndrome(chars: str) -> int:
    """``sum(value(chars[i]) * a**i)``; addition in GF(2^5) is XOR."""
    total = 0
    for weights, char in zip(_WEIGHTED, chars, strict=False):
        total ^= weights[char]
    return total


def check_character(data: str) -> str:
    """The character that makes ``data + check`` a valid body (``data`` is canonical)."""
    # c * a**n == syndrome, so c == syndrome * a**-n.
    return ALPHABET[_times_power(_syndrome(data), -len(data) % 31)]


def is_valid_body(body: str) -> bool:
    """True when ``body`` (canonical characters) carries a correct check character."""
    return _syndrome(body) == 0


def canonical(text: str) -> str:
    """What someone typed, in the code alphabet's characters: upper case, no spaces or
    dashes, O read as 0 and I or L as 1. Other characters are kept, so that
    :func:`assess` can name them."""
    return _SEPARATORS.sub("", text).upper().translate(_LOOKALIKES)


def grouped(body: str) -> str:
    """``7K3MQ9XA2BFDHW`` as ``7K3M-Q9XA-2BFD-HW``: the form printed and shown as typed."""
    return "-".join(body[start:start + GROUP] for start in range(0, len(body), GROUP))


@dataclass(frozen=True)
class VoucherCode:
    """A new code: its body (the secret) and the batch prefix printed before it."""

    body: str
    prefix: str = ""

    @property
    def display(self) -> str:
        """The printed form, e.g. ``LIB-7K3M-Q9XA-2BFD-HW`` (also the QR payload)."""
        return f"{self.prefix}-{grouped(self.body)}" if self.prefix else grouped(self.body)


def validate_prefix(prefix: str) -> str:
    """An operator's batch prefix, upper-cased; a clear error when it cannot be one."""
    candidate = prefix.strip().upper()
    if not _PREFIX.match(candidate):
        raise ValueError(
            f"voucher prefix {prefix!r}: use 1 to {MAX_PREFIX} letters or digits, e.g. LIB")
    return candidate


def new_code(prefix: str = "", randbits: Callable[[int], int] = secrets.randbits) -> VoucherCode:
    """A fresh code with ``5 * DATA_LENGTH`` bits from ``secrets`` (``randbits`` is a seam
    for reproducible test data, never for production)."""
    number = randbits(5 * DATA_LENGTH)
    data = "".join(ALPHABET[(number >> (5 * shift)) & 31] for shift in range(DATA_LENGTH))
    return VoucherCode(body=data + check_character(data),
                       prefix=validate_prefix(prefix) if prefix else "")


Status = Literal["empty", "incomplete", "typo", "invalid_character", "valid"]


@dataclass(frozen=True)
class Assessment:
    """What a person has typed so far, judged without asking anyone.

    ``typo`` (a wrong check character) and ``invalid_character`` mean "check the code":
    they are never sent to the backend and never count as a guess. ``valid`` means the
    body is well formed; whether such a voucher exists is the backend's answer.
    """

    status: Status
    body: str  # the canonical body so far (at most BODY_LENGTH characters)
    invalid: str = ""  # the first character that is not in the alphabet

    @property
    def shown(self) -> str:
        """The body grouped by four, as the kiosk's field shows it while typing."""
        return grouped(self.body)


def assess(text: str) -> Assessment:
    """Judge typed or scanned text: anything before the last 14 characters is the prefix.

    Text of up to 14 characters is taken as the body being typed (a kiosk keyboard only
    offers the code alphabet); longer text, as a scanner or a careful typist sends it, is
    a prefix plus the body. The prefix is not checked: it is not part of the secret.
    """
    chars = canonical(text)
    if not chars:
        return Assessment("empty", "")
    body = chars[-BODY_LENGTH:]
    bad = next((char for char in body if char not in _VALUE), "")
    if bad:
        return Assessment("invalid_character", body, bad)
    if len(body) < BODY_LENGTH:
        return Assessment("incomplete", body)
    return Assessment("valid" if is_valid_body(body) else "typo", body)
