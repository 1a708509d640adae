"""Database engine and transactions, on SQLite (default) and PostgreSQL.

Why the two locking styles: money movements for one user must be serialised so that two
terminals charging at the same moment never overspend. PostgreSQL does that with a row
lock (``SELECT ... FOR UPDATE`` on the user's row, see ``backend.ledger``). SQLite has no
row locks, so write transactions start with ``BEGIN IMMEDIATE``, which takes the database
write lock up front (instead of failing at the first write when a reader upgrades) and
waits ``busy_timeout`` for it. WAL mode lets readers go on meanwhile.

Why :func:`verify_database` at every start: SQLite opens a 0-byte file as a new, empty
database, and opens a file with damaged pages without complaint. Migrating the first
would start a site on an empty ledger (every balance gone, nothing said); serving the
second would accept holds on top of damage. ``PRAGMA quick_check`` finds the damage, and
an empty database next to a secret key made by an earlier start means the data is lost.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
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
            _create_private(Path(parsed.database))
        engine = create_engine(
            url, pool_size=pool_size, max_overflow=pool_size,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (it would follow the umask, 0644
    by default): SQLite gives the -wal and -shm files the mode of the main file, so all
    three stay private. The ledger holds card hashes, PIN hashes and every balance."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


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

    @property
    def write_sessions(self) -> sessionmaker[Session]:
        """The factory of :meth:`write`'s sessions: where session events are installed
        (``backend.notify.hook``) so that they see every write transaction."""
        return self._write

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


class DatabaseRefused(Exception):
    """A database the backend must not start on; ``str()`` is one line for the operator."""


def verify_database(db: Database, earlier_key: Path | None) -> None:
    """Refuse a damaged database, and an empty one when ``earlier_key`` (the secret key
    file found at start, from an earlier run) exists: a fresh install has neither, so
    its first start still creates the database."""
    engine = db.engine
    where = engine.url.database if is_sqlite(engine) else engine.url.render_as_string()
    try:
        with engine.connect() as connection:
            if is_sqlite(engine):
                found = [str(row[0]) for row in
                         connection.exec_driver_sql("PRAGMA quick_check").all()]
                if found != ["ok"]:
                    raise DatabaseRefused(
                        f"{where}: damaged database: PRAGMA quick_check found {len(found)} "
                        f"problem(s), the first: {_one_line(found[0])}; restore it from a "
                        "backup")
            empty = not inspect(connection).get_table_names()
    except DBAPIError as exc:
        if is_sqlite(engine):
            raise DatabaseRefused(f"{where}: damaged database: PRAGMA quick_check: "
                                  f"{_one_line(exc.orig)}; restore it from a backup") from exc
        raise DatabaseRefused(f"{where}: cannot be opened: {_one_line(exc.orig)}") from exc
    if empty and earlier_key is not None:
        raise DatabaseRefused(
            f"{where}: the database is empty, but the secret key {earlier_key} exists "
            "from an earlier start: the ledger's data is lost or database.url is wrong. "
            "Restore the database from a backup (or correct database.url); to start a new, "
            "empty ledger on purpose, move the key file away first")


def _one_line(text: object) -> str:
    """quick_check and drivers write several lines (``*** in database main ***\n...``)."""
    return " ".join(str(text).split())
