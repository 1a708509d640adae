"""Browser fixtures: one Chromium per test module (Playwright, the system Chromium),
a fresh context per test; the site over the test's database.

A browser flow runs on SQLite only, unless it is marked ``both_databases`` because what
it shows depends on the database (the cash desk's search uses PostgreSQL's trigram
indexes; the sign-in lockout is a row every process sees). The services under the pages
are tested on both databases by their own tests; running every page flow twice cost
about 150 s of a 2-core CI run and found nothing the service tests did not.

Every test gets its own database, copied from one migrated and seeded once per session
(demo data and the demo web accounts): migrating and seeding took about 2 s a test, the
scrypt of seven demo passwords included, and the browser tests are many.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pg_cluster as pg
import pytest
from backend_fixtures import SECRET
from web_site import WebSite, chromium, serving

from backend.app import prepare_database
from backend.db import Database
from backend.demo import seed_demo
from backend.demo_web import seed_demo_web

_copies = itertools.count()


def _seed(url: str) -> None:
    database = Database.from_url(url)
    try:
        prepare_database(database, "EUR")
        seed_demo(database, SECRET, "EUR")
        seed_demo_web(database, SECRET)
    finally:
        database.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the PostgreSQL variant of browser flows not marked ``both_databases``."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database_url") == "postgresql"
        browser_flow = "page" in getattr(item, "fixturenames", ())
        if on_postgres and browser_flow and item.get_closest_marker("both_databases") is None:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web-template") / "seeded.sqlite3"
    _seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def seeded_pg_template(pg_server: pg.PgServer, pg_template: str) -> str:
    pg_server.admin(f"CREATE DATABASE web_template TEMPLATE {pg_template}")
    _seed(pg_server.url("web_template"))
    return "web_template"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A copy of the seeded database (overrides the backend fixtures' empty one)."""
    if request.param == "sqlite":
        copy = tmp_path / "backend.sqlite3"
        shutil.copyfile(request.getfixturevalue("seeded_sqlite"), copy)
        return f"sqlite:///{copy}"
    server: pg.PgServer = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("seeded_pg_template")
    name = f"web_{next(_copies)}"
    server.admin(f"CREATE DATABASE {name} TEMPLATE {template}")
    return server.url(name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not for the session: Playwright's sync API keeps an
    asyncio loop running on this thread while it is started, and the later tests of the
    same worker that refuse to block inside a running loop (``poll_printer``) failed."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def site(db: Database) -> Iterator[WebSite]:
    with serving(db) as served:
        yield served


@pytest.fixture
def page(browser: Any, site: WebSite) -> Iterator[Any]:
    """A desktop-sized page in a context of its own (no cookies of another test)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    context.set_default_timeout(10_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()
