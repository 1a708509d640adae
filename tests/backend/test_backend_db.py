"""Database defaults: SQLite file under the user's data directory, in WAL mode; a bare
postgresql:// URL uses psycopg 3; the schema is at Alembic head after start."""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from platformdirs import user_data_dir

from backend.config import BackendConfig
from backend.db import Database, normalise_url
from backend.migrate import MIGRATIONS, alembic_config, upgrade


def test_default_database_is_sqlite_under_the_user_data_dir() -> None:
    url = BackendConfig().database_url
    assert url == f"sqlite:///{Path(user_data_dir('printkiosk')) / 'backend.sqlite3'}"


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path}/w.sqlite3")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.dispose()


def test_postgresql_url_gets_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_migrations_reach_head_and_are_idempotent(db: Database) -> None:
    upgrade(db.engine)
    upgrade(db.engine)
    head = ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
    assert (MIGRATIONS / "versions").is_dir()


def test_models_and_migrations_do_not_drift(db: Database) -> None:
    from alembic.autogenerate import compare_metadata

    from backend.models import Base

    upgrade(db.engine)
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
