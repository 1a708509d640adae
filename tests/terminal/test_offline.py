"""The offline cache (keyed hashes, age) and the offline spending policy."""

from __future__ import annotations

import stat
from decimal import Decimal
from pathlib import Path

import pytest

from analysis import ImpressionColour
from billing import load_price_list
from terminal.fakes import FakePriceLists, ManualClock
from terminal.jobs import BillingPricer, UserPricer
from terminal.offline import (
    OFFLINE_DISABLED,
    OFFLINE_LIMIT_REACHED,
    OFFLINE_USER_UNKNOWN,
    CachedUser,
    OfflineCache,
    OfflinePolicy,
    OfflineRefused,
    load_or_create_key,
)
from terminal.ports import Balance, Identity

ALICE = Identity("alice", "Alice Martin", "fr",
                 Balance("EUR", Decimal("10.00"), Decimal("5.00"), Decimal("0"), Decimal("15.00")))


def test_card_numbers_are_stored_only_as_keyed_hashes(tmp_path: Path) -> None:
    path = tmp_path / "offline.sqlite3"
    cache = OfflineCache(path, b"s" * 32, max_age_s=3600)
    cache.remember("04A1B2C3D4", ALICE)
    cache.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"04A1B2C3D4" not in raw
    other_key = OfflineCache(path, b"t" * 32, max_age_s=3600)
    assert other_key.find_card("04A1B2C3D4") is None  # the hash depends on the secret
    same_key = OfflineCache(path, b"s" * 32, max_age_s=3600)
    found = same_key.find_card(" 04a1 b2c3d4 ")  # normalised like the backend does
    assert found is not None and found.identity == ALICE


def test_entries_expire_and_balances_refresh_with_their_age(tmp_path: Path) -> None:
    clock = ManualClock()
    cache = OfflineCache(tmp_path / "c.sqlite3", b"s" * 32, max_age_s=100, clock=clock)
    cache.remember("1001", ALICE)
    clock.advance(60)
    found = cache.find_user("alice")
    assert found is not None and found.balance_age_s == 60
    fresher = Balance("EUR", Decimal("9.00"), Decimal("5.00"), Decimal("0"), Decimal("14.00"))
    cache.update_balance("alice", fresher)
    clock.advance(99)
    found = cache.find_card("1001")
    assert found is not None and found.identity.balance == fresher
    clock.advance(2)
    assert cache.find_card("1001") is None
    assert cache.forget_stale() == 1


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "state" / "offline.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match=r"offline\.key"):
        load_or_create_key(path)


@pytest.mark.parametrize(
    ("enabled", "known", "unsent", "amount", "code"),
    [
        (True, True, "0", "5.00", None),
        (True, True, "4.00", "1.01", OFFLINE_LIMIT_REACHED),
        (True, True, "0", "5.01", OFFLINE_LIMIT_REACHED),
        (True, False, "0", "0.10", OFFLINE_USER_UNKNOWN),
        (False, True, "0", "0.10", OFFLINE_DISABLED),
    ],
)
def test_offline_policy(enabled: bool, known: bool, unsent: str, amount: str,
                        code: str | None) -> None:
    policy = OfflinePolicy(enabled, Decimal("5.00"))
    cached = CachedUser(ALICE, 10.0) if known else None
    if code is None:
        policy.check(cached, Decimal(unsent), Decimal(amount))
        return
    with pytest.raises(OfflineRefused) as refused:
        policy.check(cached, Decimal(unsent), Decimal(amount))
    assert refused.value.code == code


def test_offline_policy_never_exceeds_the_last_known_balance() -> None:
    poor = Identity("bob", "Bob", "en",
                    Balance("EUR", Decimal("2.00"), Decimal("0"), Decimal("0"), Decimal("2.00")))
    policy = OfflinePolicy(True, Decimal("5.00"))
    policy.check(CachedUser(poor, 1.0), Decimal("0"), Decimal("2.00"))
    with pytest.raises(OfflineRefused):
        policy.check(CachedUser(poor, 1.0), Decimal("0"), Decimal("2.01"))


CAMPUS = (Path(__file__).resolve().parents[2] / "config" / "pricelists"
          / "campus-default.toml").read_text(encoding="utf-8")  # 500 mono sides included


def test_offline_prices_are_the_users_own_list_and_volume_as_last_seen(tmp_path: Path) -> None:
    """Online, alice's 3 mono sides are free (included pages left); offline too, also
    after a kiosk restart, not the site list's worst case (0.15). Pages printed meanwhile
    use the included pages up; a user never seen is priced by the site list, saying so."""
    path = tmp_path / "offline.sqlite3"
    cache = OfflineCache(path, b"s" * 32, max_age_s=3600)
    cache.remember("1001", ALICE)
    source = FakePriceLists(default=(CAMPUS, (497, 0)))
    site = BillingPricer(load_price_list(CAMPUS, "campus-default.toml"))
    three_mono = {(ImpressionColour.MONO, "A4"): 3}
    pricer = UserPricer(source, site, cache)
    assert pricer.prepare("alice").price(three_mono, 1, False) == Decimal("0.00")
    source.down = True
    cache.close()
    cache = OfflineCache(path, b"s" * 32, max_age_s=3600)  # the kiosk restarted
    pricer = UserPricer(source, site, cache)
    offline = pricer.prepare("alice")
    assert (offline.price(three_mono, 1, False), offline.notice) == (Decimal("0.00"), None)
    cache.remember("1001", ALICE)  # identified again: the prices stay with the entry
    cache.count_printed("alice", 2, 0)  # 2 of the 3 included sides left printed offline
    assert pricer.prepare("alice").price(three_mono, 1, False) == Decimal("0.10")
    stranger = pricer.prepare("dave")
    assert stranger.price(three_mono, 1, False) == Decimal("0.15")
    assert stranger.notice == "offline_prices_from_site_list"
    bob = Identity("bob", "Bob", "en", ALICE.balance)
    cache.remember("1001", bob)  # the card now belongs to bob: alice's prices are not his
    assert cache.find_prices("bob") is None


def test_offline_prices_expire_with_the_entry(tmp_path: Path) -> None:
    clock = ManualClock()
    cache = OfflineCache(tmp_path / "c.sqlite3", b"s" * 32, max_age_s=100, clock=clock)
    cache.remember("1001", ALICE)
    cache.remember_prices("alice", CAMPUS, (10, 2))
    assert cache.find_prices("alice") == (CAMPUS, (10, 2))
    clock.advance(101)
    assert cache.find_prices("alice") is None


def test_a_cache_made_before_prices_were_kept_gains_their_columns(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE offline_users (card_hash TEXT PRIMARY KEY, username TEXT NOT"
                   " NULL, display_name TEXT NOT NULL, language TEXT NOT NULL, balance TEXT"
                   " NOT NULL, balance_at REAL NOT NULL)")
    cache = OfflineCache(path, b"s" * 32, max_age_s=3600)
    cache.remember("1001", ALICE)
    cache.remember_prices("alice", CAMPUS, None)
    assert cache.find_prices("alice") == (CAMPUS, None)
    assert cache.find_card("1001") is not None


def test_a_capture_moves_the_cached_volume_online_and_offline(tmp_path: Path) -> None:
    """Every capture journalled counts its sides at once, sent or not yet sent."""
    from terminal.charges import ChargeBook
    from terminal.fakes import FakeLedger
    from terminal.outbox import Outbox

    cache = OfflineCache(tmp_path / "offline.sqlite3", b"s" * 32, max_age_s=3600)
    cache.remember("1001", ALICE)
    cache.remember_prices("alice", CAMPUS, (100, 4))
    ledger = FakeLedger({"alice": Decimal("15.00")})
    book = ChargeBook(Outbox(tmp_path / "outbox.sqlite3"), ledger,
                      OfflinePolicy(True, Decimal("5.00")), cache)
    online = book.authorise("alice", Decimal("1.00"), "report", "cups-1")
    book.capture(online.key, Decimal("0.50"), pages=5, colour_pages=2)
    ledger.down = True
    offline = book.authorise("alice", Decimal("1.00"), "report", "cups-2")
    assert offline.offline
    book.capture(offline.key, Decimal("0.25"), pages=1, colour_pages=1)
    assert cache.find_prices("alice") == (CAMPUS, (103, 7))
    book.outbox.close()
