"""Database engine and transactions, on SQLite (default) and PostgreSQL.

Why the two locking styles: money movements for one user must be serialised so that two
terminals charging at the same moment never overspend. PostgreSQL does that with a row
lock (``SELECT ... FOR UPDATE`` on the user's row, see ``backend.ledger``). SQLite has no
row locks, so write transactions start with ``BEGIN IMMEDIATE``, which takes the database
write lock up front (instead of failing at the first write when a reader upgrades) and
waits ``busy_timeout`` for it. WAL mode lets readers go on meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE = "printkiosk_write"


def normalise_url(url: str) -> str:
    """Pick psycopg 3 for a bare ``postgresql://`` URL (SQLAlchemy would look for psycopg2)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, pool_size: int = 10) -> Engine:
    """An engine configured for the ledger: WAL + immediate writes on SQLite."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, pool_size=pool_size, max_overflow=pool_size,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The engine plus two session factories: reads, and serialised writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite allows one writer; waiting for it inside SQLite means polling with growing
        # sleeps (busy_timeout), which starves some threads for seconds under load. Queueing
        # this process's writers on a lock first makes the wait short and fair; BEGIN
        # IMMEDIATE still guards against other processes on the same file.
        self._sqlite_writers: threading.Lock | None = (
            threading.Lock() if is_sqlite(engine) else None
        )
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, url: str, pool_size: int = 10) -> Database:
        return cls(make_engine(url, pool_size))

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        with ExitStack() as stack:
            if self._sqlite_writers is not None:
                stack.enter_context(self._sqlite_writers)
            session = stack.enter_context(self._write())
            stack.enter_context(session.begin())
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
