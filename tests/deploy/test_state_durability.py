"""What a power cut may not take: the kiosk's SQLite files in its state directory are in
WAL mode (a torn write never corrupts the file) and commit with synchronous=FULL where a
commit carries money: a new outbox entry (a hold, a capture) is fsynced before the kiosk
acts on it, and the offline cache's balances too. The outbox's "sent" marks commit
with NORMAL on purpose (a lost mark costs one idempotent resend; terminal/outbox.py).

The PRAGMAs are read on the objects' own connections: ``synchronous`` is a property of a
connection, not of the file, so another connection would not see it."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from terminal.offline import OfflineCache
from terminal.outbox import EntryKind, Outbox

FULL, NORMAL = 2, 1  # PRAGMA synchronous values


def pragma(db: sqlite3.Connection, name: str) -> object:
    return db.execute(f"PRAGMA {name}").fetchone()[0]


def test_the_outbox_is_wal_and_commits_a_hold_with_synchronous_full(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    try:
        db = outbox._db  # the connection the outbox commits through
        assert pragma(db, "journal_mode") == "wal"
        entry = outbox.record(EntryKind.HOLD, {"job": "report.pdf"}, username="alice",
                              amount=Decimal("0.36"))
        assert pragma(db, "synchronous") == FULL  # what the hold was committed with
        outbox.mark_sent(entry.key, {"ok": True})
        assert pragma(db, "synchronous") == NORMAL  # the mark only
        outbox.record(EntryKind.HOLD, {"job": "next.pdf"}, username="alice",
                      amount=Decimal("0.10"))
        assert pragma(db, "synchronous") == FULL
    finally:
        outbox.close()
    # the mode is the file's: whoever opens it next (the kiosk after a restart) gets WAL
    with sqlite3.connect(tmp_path / "outbox.sqlite") as again:
        assert pragma(again, "journal_mode") == "wal"


def test_the_offline_cache_is_wal_with_synchronous_full(tmp_path: Path) -> None:
    cache = OfflineCache(tmp_path / "offline.sqlite", b"k" * 32, max_age_s=3600)
    try:
        db = cache._db
        assert pragma(db, "journal_mode") == "wal"
        # not set by terminal/offline.py: SQLite's default (Debian's and Raspberry Pi
        # OS's build), which this test pins so that a build defaulting to NORMAL shows
        assert pragma(db, "synchronous") == FULL
    finally:
        cache.close()
