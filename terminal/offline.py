"""Offline mode: who may still print when the backend cannot be reached, and for how much.

The kiosk remembers the users it recently identified online: their name, language and
last known balance, with the time it was seen, so it can say how old the figure is.
A card is remembered only as a keyed hash (HMAC-SHA256 with a per-kiosk secret kept in
a 0600 file), never as the number itself: a stolen SD card yields no card numbers, and
the hashes cannot be matched against another site's.

While offline, a remembered user may spend up to the configured offline limit, and never
more than the last known available balance; what they were authorised for and the
backend has not heard of yet (the outbox's unsent holds) counts against both, so the
limit holds across sessions and restarts. Anyone else is refused with a stable code.
A PIN cannot be checked offline (the kiosk keeps no PIN hashes), so PIN logins are
refused while offline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from terminal.ports import BackendRejected, Balance, Identity

OFFLINE_USER_UNKNOWN = "offline_user_unknown"
OFFLINE_LIMIT_REACHED = "offline_limit_reached"
OFFLINE_PIN_UNAVAILABLE = "offline_pin_unavailable"
OFFLINE_DISABLED = "offline_disabled"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS offline_users (
    card_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    language TEXT NOT NULL,
    balance TEXT NOT NULL,
    balance_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS offline_users_username ON offline_users(username);
"""
# The user's price list (TOML) and period volume as the backend last gave them, kept
# with the entry (added to caches made before they existed).
_PRICE_COLUMNS = {"price_list": "TEXT", "volume_mono": "INTEGER", "volume_colour": "INTEGER",
                  "prices_at": "REAL"}


class OfflineRefused(BackendRejected):
    """Refused by the offline policy; ``code`` is one of the ``OFFLINE_*`` keys."""


@dataclass(frozen=True)
class CachedUser:
    """A remembered user; ``balance_age_s`` is how old the balance figure is."""

    identity: Identity
    balance_age_s: float


def load_or_create_key(path: Path) -> bytes:
    """The per-kiosk HMAC secret: created once (0600, 32 random bytes), then reused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) < 32:
            raise ValueError(f"{path}: offline cache key is shorter than 32 bytes") from None
        return key
    with os.fdopen(fd, "wb") as out:
        key = secrets.token_bytes(32)
        out.write(key)
        out.flush()
        os.fsync(out.fileno())
    return key


def normalise_card(card_number: str) -> str:
    """The same normalisation the backend applies before hashing: no spaces, upper case."""
    return "".join(card_number.split()).upper()


class OfflineCache:
    """Recently seen users in SQLite, keyed by HMAC of the card number."""

    def __init__(
        self,
        path: Path,
        key: bytes,
        max_age_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        present = {row[1] for row in self._db.execute("PRAGMA table_info(offline_users)")}
        for column, kind in _PRICE_COLUMNS.items():
            if column not in present:
                self._db.execute(f"ALTER TABLE offline_users ADD COLUMN {column} {kind}")
        self._key = key
        self._max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def card_hash(self, card_number: str) -> str:
        digest = hmac.new(self._key, normalise_card(card_number).encode(), hashlib.sha256)
        return digest.hexdigest()

    def remember(self, card_number: str, identity: Identity) -> None:
        """An online identification by card: remember the user and the balance now.

        The user's cached prices stay, unless the card now belongs to someone else."""
        with self._lock:
            self._db.execute(
                "INSERT INTO offline_users (card_hash, username, display_name, language,"
                " balance, balance_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (card_hash) DO"
                " UPDATE SET display_name = excluded.display_name,"
                " language = excluded.language, balance = excluded.balance,"
                " balance_at = excluded.balance_at, price_list = CASE WHEN username ="
                " excluded.username THEN price_list END, username = excluded.username",
                (self.card_hash(card_number), identity.username, identity.display_name,
                 identity.language, _dump_balance(identity.balance), self._clock()),
            )

    def remember_prices(self, username: str, toml: str, volume: tuple[int, int] | None) -> None:
        """The price list and period volume the backend just gave for this user, kept
        with their entry (``terminal.ports.PriceListCache``): offline, the user is priced
        as online, with the list and volume as last seen."""
        mono, colour = volume if volume is not None else (None, None)
        with self._lock:
            self._db.execute(
                "UPDATE offline_users SET price_list = ?, volume_mono = ?, volume_colour = ?,"
                " prices_at = ? WHERE username = ?",
                (toml, mono, colour, self._clock(), username),
            )

    def count_printed(self, username: str, mono: int, colour: int) -> None:
        """Sides just captured for this user: the volume as last seen moves with them, so
        included pages used up offline are not offered again before the backend's next
        figure (which replaces this one, and already counts them)."""
        with self._lock:
            self._db.execute(
                "UPDATE offline_users SET volume_mono = volume_mono + ?,"
                " volume_colour = volume_colour + ? WHERE username = ?"
                " AND volume_mono IS NOT NULL",
                (mono, colour, username),
            )

    def find_prices(self, username: str) -> tuple[str, tuple[int, int] | None] | None:
        """The user's list and volume as last seen, or None (never seen, or too old)."""
        with self._lock:
            row = self._db.execute(
                "SELECT price_list, volume_mono, volume_colour, prices_at FROM offline_users"
                " WHERE username = ? AND price_list IS NOT NULL ORDER BY prices_at DESC",
                (username,),
            ).fetchone()
        if row is None or self._clock() - float(row[3]) > self._max_age_s:
            return None
        volume = None if row[1] is None else (int(row[1]), int(row[2]))
        return str(row[0]), volume

    def update_balance(self, username: str, balance: Balance) -> None:
        """A fresher balance from the backend (after a hold, a capture, a drain)."""
        with self._lock:
            self._db.execute(
                "UPDATE offline_users SET balance = ?, balance_at = ? WHERE username = ?",
                (_dump_balance(balance), self._clock(), username),
            )

    def find_card(self, card_number: str) -> CachedUser | None:
        return self._find("card_hash = ?", self.card_hash(card_number))

    def find_user(self, username: str) -> CachedUser | None:
        return self._find("username = ?", username)

    def forget_stale(self) -> int:
        """Drop users not seen within the maximum age; return how many."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM offline_users WHERE balance_at < ?", (self._clock() - self._max_age_s,)
            )
        return cursor.rowcount

    def _find(self, where: str, value: str) -> CachedUser | None:
        columns = "username, display_name, language, balance, balance_at"
        query = f"SELECT {columns} FROM offline_users WHERE {where} ORDER BY balance_at DESC"  # noqa: S608 - constants
        with self._lock:
            row = self._db.execute(query, (value,)).fetchone()
        if row is None:
            return None
        age = max(0.0, self._clock() - float(row[4]))
        if age > self._max_age_s:
            return None
        identity = Identity(str(row[0]), str(row[1]), str(row[2]), _load_balance(str(row[3])))
        return CachedUser(identity, age)


@dataclass(frozen=True)
class OfflinePolicy:
    """May this remembered user be authorised for this amount while offline?"""

    enabled: bool
    spending_limit: Decimal

    def check(self, cached: CachedUser | None, unsent: Decimal, amount: Decimal) -> None:
        """Raise :class:`OfflineRefused` unless ``amount`` fits; ``unsent`` is already owed."""
        if not self.enabled:
            raise OfflineRefused(OFFLINE_DISABLED, "offline mode is switched off")
        if cached is None:
            raise OfflineRefused(OFFLINE_USER_UNKNOWN, "user not seen recently on this kiosk")
        allowed = min(self.spending_limit, cached.identity.balance.available) - unsent
        if amount > allowed:
            raise OfflineRefused(
                OFFLINE_LIMIT_REACHED, f"{amount} asked, {max(allowed, Decimal(0))} allowed offline"
            )


def balance_to_dict(balance: Balance) -> dict[str, str]:
    """A balance as JSON-ready strings (amounts never become floats on disk)."""
    return {"currency": balance.currency, "virtual_credit": str(balance.virtual_credit),
            "personal_credit": str(balance.personal_credit), "held": str(balance.held),
            "available": str(balance.available)}


def balance_from_dict(raw: dict[str, Any]) -> Balance:
    return Balance(str(raw["currency"]), Decimal(raw["virtual_credit"]),
                   Decimal(raw["personal_credit"]), Decimal(raw["held"]),
                   Decimal(raw["available"]))


def _dump_balance(balance: Balance) -> str:
    return json.dumps(balance_to_dict(balance))


def _load_balance(raw: str) -> Balance:
    return balance_from_dict(json.loads(raw))
