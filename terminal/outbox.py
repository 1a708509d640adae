"""The durable outbox: every charge, refund and event is journalled here before it is sent.

A kiosk can lose power or be killed between any two instructions. So a money write is
first committed to a local SQLite journal (WAL mode, ``synchronous=FULL``: the commit is
on disk when :meth:`Outbox.record` returns), with its idempotency key made at that
moment, and only then sent. Whatever happens afterwards, the entry is still there on the
next start and is sent again with the same key and the same body, which the backend
answers with its first answer: nothing is lost, nothing is charged twice.

Entries are sent strictly in the order they were recorded (a capture after its hold,
a refund after its capture). A capture, void or refund names its hold by the hold
entry's key (``parent``), not by the backend's hold id, because when it is recorded
offline the hold may not exist on the backend yet; the id is looked up in the parent's
stored answer when the child is sent.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    parent TEXT REFERENCES outbox(key),
    username TEXT,
    amount TEXT,
    body TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    result TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(state, seq);
CREATE INDEX IF NOT EXISTS outbox_parent ON outbox(parent);
CREATE INDEX IF NOT EXISTS outbox_user ON outbox(username, kind, state);
"""


class EntryKind(Enum):
    HOLD = "hold"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"
    EVENT = "event"
    # a 3D print's end (completed, cancelled, failed, not_started), sent to the backend's
    # settle call of the job, which captures or voids the parent hold by its policy
    SETTLE_3D = "settle_3d"
    # a technician's action for the backend's audit log (terminal.technician): journalled
    # so that a change made offline, entered with the local PIN, still reaches it
    TECHNICIAN = "technician"


class EntryState(Enum):
    PENDING = "pending"
    SENT = "sent"
    REFUSED = "refused"


@dataclass(frozen=True)
class Entry:
    """One journalled write. ``result`` is the backend's answer, or ``{"code": ...}``."""

    seq: int
    key: str
    kind: EntryKind
    parent: str | None
    username: str | None
    amount: Decimal | None
    body: dict[str, Any]
    recorded_at: str
    state: EntryState
    result: dict[str, Any] | None
    attempts: int
    last_error: str | None


def new_key() -> str:
    """An idempotency key: 32 hex digits of randomness, unique per terminal forever."""
    return uuid.uuid4().hex


class Outbox:
    """The journal in one SQLite file; safe to share between the kiosk's threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction; ``durable`` ones are on disk when it ends.

        Only a new entry must survive a power cut before anything is sent. Losing a
        "sent" mark costs one resend, which the idempotency key makes harmless, so
        those commits skip the fsync (WAL with synchronous=NORMAL never corrupts).
        """
        with self._lock:
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def record(
        self,
        kind: EntryKind,
        body: Mapping[str, Any],
        *,
        username: str | None = None,
        amount: Decimal | None = None,
        parent: str | None = None,
    ) -> Entry:
        """Commit a new entry to disk with a fresh idempotency key; return it."""
        key = new_key()
        recorded_at = datetime.now(UTC).isoformat()
        with self._write() as db:
            db.execute(
                "INSERT INTO outbox (key, kind, parent, username, amount, body, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, kind.value, parent, username, None if amount is None else str(amount),
                 json.dumps(dict(body), sort_keys=True), recorded_at),
            )
        entry = self.get(key)
        assert entry is not None  # just committed
        return entry

    def get(self, key: str) -> Entry | None:
        rows = self._select("WHERE key = ?", (key,))
        return rows[0] if rows else None

    def pending(self, limit: int = 500) -> list[Entry]:
        """Unsent entries, oldest first: the order they must reach the backend in."""
        return self._select("WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,))

    def settlement_of(self, hold_key: str) -> Entry | None:
        """The capture, void or 3D settlement recorded for a hold, if any."""
        rows = self._select(
            "WHERE parent = ? AND kind IN ('capture', 'void', 'settle_3d') ORDER BY seq LIMIT 1",
            (hold_key,),
        )
        return rows[0] if rows else None

    def unsettled_holds(self) -> list[Entry]:
        """Holds neither refused nor followed by a capture, void or 3D settlement: jobs
        left mid-way."""
        return self._select(
            "WHERE kind = 'hold' AND state != 'refused' AND NOT EXISTS (SELECT 1 FROM outbox c"
            " WHERE c.parent = outbox.key AND c.kind IN ('capture', 'void', 'settle_3d'))"
            " ORDER BY seq", (),
        )

    def holds(self) -> list[Entry]:
        return self._select("WHERE kind = 'hold' ORDER BY seq", ())

    def holds_for_job(self, job_ref: str) -> list[Entry]:
        return self._select(
            "WHERE kind = 'hold' AND json_extract(body, '$.job_ref') = ? ORDER BY seq", (job_ref,)
        )

    def unsent_spending(self, username: str) -> Decimal:
        """What this user was authorised for that the backend has not heard of yet.

        The cached balance cannot show these, so the offline limit counts them. A hold
        already voided (refused offline) is not spending.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT amount FROM outbox WHERE username = ? AND kind = 'hold'"
                " AND state = 'pending' AND NOT EXISTS (SELECT 1 FROM outbox v"
                " WHERE v.parent = outbox.key AND v.kind = 'void')",
                (username,),
            ).fetchall()
        return sum((Decimal(row[0]) for row in rows), Decimal("0"))

    def oldest_pending(self) -> Entry | None:
        """The entry that has waited longest (the one the drain is stuck on, if any)."""
        rows = self._select("WHERE state = 'pending' ORDER BY seq LIMIT 1", ())
        return rows[0] if rows else None

    def counts(self) -> dict[EntryState, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
        found = {EntryState(state): count for state, count in rows}
        return {state: found.get(state, 0) for state in EntryState}

    def prune(self, before: datetime) -> int:
        """Forget sent entries recorded before ``before``; return how many went.

        Sent entries are the kiosk's local trail for a while, but a kiosk runs for years
        on an SD card. Refused entries are kept for the operator, and a hold is kept
        while anything that names it stays (its answer holds the backend's hold id).
        """
        with self._write(durable=False) as db:
            cutoff = before.astimezone(UTC).isoformat()
            cursor = db.execute(
                "DELETE FROM outbox WHERE state = 'sent' AND recorded_at < ? AND NOT EXISTS"
                " (SELECT 1 FROM outbox c WHERE c.parent = outbox.key"
                " AND NOT (c.state = 'sent' AND c.recorded_at < ?))",
                (cutoff, cutoff),
            )
        return cursor.rowcount

    def mark_sent(self, key: str, result: Mapping[str, Any]) -> None:
        self._settle(key, EntryState.SENT, result)

    def mark_refused(self, key: str, code: str, detail: str = "") -> None:
        self._settle(key, EntryState.REFUSED, {"code": code, "detail": detail})

    def mark_failed_attempt(self, keys: list[str], error: str) -> None:
        """A send that did not get through; the entries stay pending (and are resent)."""
        with self._write(durable=False) as db:
            db.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE key = ?",
                [(error, key) for key in keys],
            )

    def _settle(self, key: str, state: EntryState, result: Mapping[str, Any]) -> None:
        with self._write(durable=False) as db:
            db.execute(
                "UPDATE outbox SET state = ?, result = ? WHERE key = ? AND state = 'pending'",
                (state.value, json.dumps(dict(result), sort_keys=True), key),
            )

    def _select(self, where: str, params: tuple[object, ...]) -> list[Entry]:
        columns = "seq, key, kind, parent, username, amount, body, recorded_at, state, result"
        query = f"SELECT {columns}, attempts, last_error FROM outbox {where}"  # noqa: S608 - constants
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return [
            Entry(
                seq=row[0], key=row[1], kind=EntryKind(row[2]), parent=row[3],
                username=row[4], amount=None if row[5] is None else Decimal(row[5]),
                body=json.loads(row[6]), recorded_at=row[7], state=EntryState(row[8]),
                result=None if row[9] is None else json.loads(row[9]), attempts=row[10],
                last_error=row[11],
            )
            for row in rows
        ]
