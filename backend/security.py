"""Keyed hashes for card numbers and tokens, and salted slow hashes for PINs.

Card numbers are short and guessable, so a plain hash would be reversible by trying every
number: they are stored as HMAC-SHA256 under the backend's secret key. Tokens and
enrolment keys are long random strings, so HMAC is enough for them too (a stolen database
alone does not let anyone authenticate). PINs are 4-8 digits, so scrypt alone is not
enough: 10 000 four-digit PINs times one scrypt took 15 s from a copied database. They are
HMAC-SHA256'd under the secret first, then scrypt'd with a salt (``hscrypt$``): a copy of
the database without the key file cannot try any PIN. Attempts are rate-limited in
``backend.identify``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache


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
KEYED = "hscrypt"  # scrypt over HMAC-SHA256(secret, PIN): useless without the secret
UNKEYED = "scrypt"  # before issue 12: scrypt of the PIN alone, re-keyed at the next login


@dataclass(frozen=True)
class PinCheck:
    """The outcome of :func:`verify_pin`; ``rekey`` is the PIN's hash in the keyed scheme
    when a correct PIN was stored in the old one (the caller stores it)."""

    ok: bool
    rekey: str | None = None


def scrypt_digest(material: bytes, salt: bytes) -> bytes:
    """The slow step (tens of ms): never call it with a write transaction open."""
    return hashlib.scrypt(material, salt=salt, **_SCRYPT)


def _keyed(secret: bytes, pin: str) -> bytes:
    return hmac.new(secret, f"pin:{pin}".encode(), hashlib.sha256).digest()


def hash_pin(secret: bytes, pin: str) -> str:
    salt = secrets.token_bytes(16)
    return f"{KEYED}${salt.hex()}${scrypt_digest(_keyed(secret, pin), salt).hex()}"


def verify_pin(secret: bytes, pin: str, stored: str) -> PinCheck:
    """Check ``pin`` against a stored hash of either scheme; one scrypt either way."""
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return PinCheck(ok=False)
    if scheme == KEYED:
        material = _keyed(secret, pin)
    elif scheme == UNKEYED:
        material = pin.encode()
    else:
        return PinCheck(ok=False)
    ok = hmac.compare_digest(scrypt_digest(material, salt).hex(), digest_hex)
    return PinCheck(ok=ok, rekey=hash_pin(secret, pin) if ok and scheme == UNKEYED else None)


@cache
def dummy_pin_hash() -> str:
    """A keyed hash of a random PIN, checked for unknown users so that they cost one
    scrypt like everyone else (the same time, hence nothing to learn from the timing)."""
    return hash_pin(secrets.token_bytes(32), secrets.token_hex(8))
