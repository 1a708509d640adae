"""The write phase shared by the CSV imports: bounded batches of bulk SQL statements, each
batch its own short write transaction.

Why: on SQLite a write transaction holds the one database write lock. An import of
100 000 lines in one transaction kept every kiosk's charge waiting until SQLite's
busy_timeout gave up (a 500 after 30 s). In batches of BATCH_ROWS lines, a charge waits
for at most one batch (well under a second), and the pause between batches lets a writer
that is already waiting in SQLite's busy handler (which polls, it is not queued) take the
lock before the next batch does. PostgreSQL has no database-wide write lock (row locks
only), so it gets no pause.

Every statement is written so that running it again gives the same rows (insert when
missing, update to the file's values, replace a set): an import interrupted between two
batches converges when the same file is imported again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.db import Database, is_sqlite

T = TypeVar("T")

BATCH_ROWS = 1000
SQLITE_PAUSE_S = 0.05


def chunks(items: Sequence[T], size: int = BATCH_ROWS) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_missing(session: Session, model: type[Any], rows: list[dict[str, Any]],
                   unique: str) -> None:
    """INSERT ... ON CONFLICT (unique) DO NOTHING, many rows in one statement: a row that
    another writer (or an earlier, interrupted run) has inserted meanwhile is kept."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module: Any = sqlite if dialect == "sqlite" else postgresql
    table = model.__table__  # Core, not the ORM's bulk path: it is several times slower
    session.execute(module.insert(table).on_conflict_do_nothing(index_elements=[unique]), rows)


def write_batches(db: Database, steps: Iterable[Callable[[Session], None]],
                  pause_s: float = SQLITE_PAUSE_S) -> None:
    """Run each step in its own write transaction, pausing between them on SQLite."""
    pause = pause_s if is_sqlite(db.engine) else 0.0
    for step in steps:
        with db.write() as session:
            step(session)
        if pause:
            time.sleep(pause)
