"""Web passwords: HMAC under the backend's secret, then scrypt with a salt.

The same scheme as kiosk PINs (``backend.security``): a copied database without the key
file cannot even try a password. Unknown usernames are checked against a dummy hash so a
wrong name costs the same scrypt as a wrong password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from backend.security import scrypt_digest
from backend.text import control_character_error

SCHEME = "pwscrypt"
MIN_LENGTH = 10
MAX_LENGTH = 200


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be set (too short, too long, control characters), or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    return control_character_error(password)


def _keyed(secret: bytes, password: str) -> bytes:
    return hmac.new(secret, f"password:{password}".encode(), hashlib.sha256).digest()


def hash_password(secret: bytes, password: str) -> str:
    salt = secrets.token_bytes(16)
    return f"{SCHEME}${salt.hex()}${scrypt_digest(_keyed(secret, password), salt).hex()}"


def verify_password(secret: bytes, password: str, stored: str | None) -> bool:
    """One scrypt whatever happens: ``stored`` None (unknown user, no password set) is
    checked against a dummy hash and fails."""
    try:
        scheme, salt_hex, digest_hex = (stored or dummy_password_hash()).split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    digest = scrypt_digest(_keyed(secret, password), salt).hex()
    return stored is not None and scheme == SCHEME and hmac.compare_digest(digest, digest_hex)


@cache
def dummy_password_hash() -> str:
    return hash_password(secrets.token_bytes(32), secrets.token_hex(16))
