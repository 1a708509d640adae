"""Backend fixtures: every database test runs on SQLite and on a real PostgreSQL, and the
ledger invariants are checked after each one."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pg_cluster as pg
import pytest
from backend_fixtures import SECRET, Backend
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.config import BackendConfig
from backend.db import Database
from backend.demo import seed_demo
from backend.ledger import check_invariants
from backend.migrate import upgrade

_database_numbers = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    if not pg.available():
        pytest.skip("PostgreSQL 15 server binaries are not installed")
    with pg.running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def pg_template(pg_server: pg.PgServer) -> str:
    """A database migrated once; each test gets a copy (CREATE DATABASE ... TEMPLATE),
    which is much faster than running the migrations again."""
    pg_server.admin("CREATE DATABASE backend_template")
    template = Database.from_url(pg_server.url("backend_template"))
    upgrade(template.engine)
    template.dispose()
    return "backend_template"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'backend.sqlite3'}"
    server: pg.PgServer = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("pg_template")
    name = f"test_{next(_database_numbers)}"
    server.admin(f"CREATE DATABASE {name} TEMPLATE {template}")
    return server.url(name)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url, pool_size=20)
    yield database
    with database.read() as session:
        report = check_invariants(session)
    database.dispose()
    assert report.ok, report


@pytest.fixture
def backend(db: Database) -> Iterator[Backend]:
    config = BackendConfig.model_validate({"database": {"url": str(db.engine.url)}})
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, config.ledger.currency)
    with TestClient(app) as client:
        yield Backend(config, db, client)
