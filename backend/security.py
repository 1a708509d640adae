"""Keyed hashes for card numbers and tokens, and salted slow hashes for PINs.

Card numbers are short and guessable, so a plain hash would be reversible by trying every
number: they are stored as HMAC-SHA256 under the backend's secret key. Tokens and
enrolment keys are long random strings, so HMAC is enough for them too (a stolen database
alone does not let anyone authenticate). PINs are 4-8 digits: scrypt with a salt, and the
attempts are rate-limited in ``backend.identify``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def normalise_card(raw: str) -> str:
    """The backend's half of card-number normalisation: strip spaces, upper-case."""
    return "".join(raw.split()).upper()


def keyed_hash(secret: bytes, value: str, purpose: str) -> str:
    """HMAC-SHA256 hex of value; ``purpose`` separates card hashes from token hashes."""
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def card_hash(secret: bytes, raw_card: str) -> str:
    return keyed_hash(secret, normalise_card(raw_card), "card")


def token_hash(secret: bytes, token: str) -> str:
    return keyed_hash(secret, token, "token")


def new_token() -> str:
    return secrets.token_urlsafe(32)


_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)
