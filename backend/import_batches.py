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

from sqlalchemy.orm import Session

from backend.db import Database, is_sqlite

T = TypeVar("T")

BATCH_ROWS = 1000
SQLITE_PAUSE_S = 0.05


def chunks(items: Sequence[T], size: int = BATCH_ROWS) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _driver_rows(session: Session, model: type[Any],
                 rows: Sequence[dict[str, Any]]) -> tuple[Any, list[str], list[tuple[Any, ...]]]:
    """The connection, the column names and each row as the driver's tuple, converted by
    each column's own type (Money to its integer, timestamps to UTC) as SQLAlchemy would."""
    connection = session.connection()
    dialect = connection.dialect
    columns = list(rows[0])
    table = model.__table__
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in columns]
    converted = [tuple(value if convert is None else convert(value)
                       for convert, value in zip(processors, (row[name] for name in columns),
                                                 strict=True))
                 for row in rows]
    return connection, columns, converted


def _sql_names(session: Session, *names: str) -> list[str]:
    quote = session.get_bind().dialect.identifier_preparer.quote
    return [quote(name) for name in names]


def _unnest(connection: Any, model: type[Any], columns: list[str],
            values: list[tuple[Any, ...]]) -> tuple[str, tuple[list[Any], ...]]:
    """PostgreSQL: ``unnest(CAST(%s AS type[]), ...)`` and one array per column: all the
    rows in one statement with one parameter per column. (psycopg's executemany is one
    statement per row, and a VALUES list of thousands of placeholders costs more to
    prepare on the client than to run.)"""
    dialect = connection.dialect
    types = [model.__table__.c[name].type.compile(dialect=dialect) for name in columns]
    arrays = tuple([row[index] for row in values] for index in range(len(columns)))
    return "unnest(" + ", ".join(f"CAST(%s AS {kind}[])" for kind in types) + ")", arrays


def _with_defaults(model: type[Any], rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row with the Python-side defaults of the columns it does not give (created_at,
    counters), which SQLAlchemy would add and the driver does not know about."""
    missing = [column for column in model.__table__.columns
               if column.name not in rows[0] and column.default is not None]
    if not missing:
        return list(rows)
    filled = []
    for row in rows:
        extra = {column.name: (column.default.arg(None) if column.default.is_callable
                               else column.default.arg) for column in missing}
        filled.append({**row, **extra})
    return filled


def bulk_insert(session: Session, model: type[Any], rows: Sequence[dict[str, Any]],
                unique: str | None = None) -> None:
    """INSERT many rows through the driver's fast path: SQLite's executemany (a C loop),
    PostgreSQL's unnest of one array per column (SQLAlchemy's own executemany spends more
    time building parameters than the database spends writing). With ``unique``: ON
    CONFLICT (unique) DO NOTHING, so that a row that another writer or an earlier,
    interrupted run has inserted is kept. Every row has the same keys."""
    if not rows:
        return
    connection, columns, values = _driver_rows(session, model, _with_defaults(model, rows))
    table, *names = _sql_names(session, model.__tablename__, *columns)
    # Names come from the models (quoted), values only through placeholders.
    into = f"INSERT INTO {table} ({', '.join(names)}) "
    conflict = ("" if unique is None
                else f" ON CONFLICT ({_sql_names(session, unique)[0]}) DO NOTHING")
    if connection.dialect.paramstyle == "qmark":  # SQLite
        marks = ", ".join("?" for _ in names)
        connection.exec_driver_sql(f"{into}VALUES ({marks}){conflict}", values)
        return
    rows_sql, arrays = _unnest(connection, model, columns, values)
    connection.exec_driver_sql(f"{into}SELECT * FROM {rows_sql}{conflict}", arrays)  # noqa: S608


def bulk_update(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE by primary key ``id``, one statement per set of columns (as bulk_insert:
    executemany on SQLite, unnest on PostgreSQL): a row sets only the columns it has (an
    empty CSV cell leaves the database's value)."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(key for key in row if key != "id")), []).append(row)
    for shape, group in shapes.items():
        ordered = [{**{key: row[key] for key in shape}, "id": row["id"]} for row in group]
        connection, columns, values = _driver_rows(session, model, ordered)
        table, *names = _sql_names(session, model.__tablename__, *columns)
        if connection.dialect.paramstyle == "qmark":
            sets = ", ".join(f"{name} = ?" for name in names[:-1])
            connection.exec_driver_sql(
                f"UPDATE {table} SET {sets} WHERE {names[-1]} = ?", values)  # noqa: S608
            continue
        sets = ", ".join(f"{name} = v.{name}" for name in names[:-1])
        rows_sql, arrays = _unnest(connection, model, columns, values)
        connection.exec_driver_sql(
            f"UPDATE {table} SET {sets} FROM {rows_sql} "  # noqa: S608
            f"AS v({', '.join(names)}) WHERE {table}.{names[-1]} = v.{names[-1]}", arrays)


def write_batches(db: Database, steps: Iterable[Callable[[Session], None]],
                  pause_s: float = SQLITE_PAUSE_S) -> None:
    """Run each step in its own write transaction, pausing between them on SQLite."""
    pause = pause_s if is_sqlite(db.engine) else 0.0
    for step in steps:
        with db.write() as session:
            step(session)
        if pause:
            time.sleep(pause)
