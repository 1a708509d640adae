"""A migrated, empty database on SQLite and PostgreSQL for the report tests (the `db`
fixture gives SQLite unmigrated; the PostgreSQL copy of the template already is)."""

from __future__ import annotations

import pytest

from backend.db import Database
from backend.migrate import upgrade


@pytest.fixture
def history_db(db: Database) -> Database:
    upgrade(db.engine)
    return db
