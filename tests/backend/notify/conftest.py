"""The notification tests' real SMTP server (session-scoped, see smtp_peer.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The browser test of the outbox page uses the web tests' helpers (tests/backend/web/
# web_site.py: the served app, sign-in, axe-core, screenshots); their folder is on the
# path only when pytest collects it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from smtp_peer import Mailbox, deliver_all

from backend.app import prepare_database
from backend.db import Database

__all__ = ["deliver_all", "mailbox", "notify_db", "smtp_server"]


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    box = Mailbox(tmp_path_factory.mktemp("smtp"))
    box.start()
    yield box
    box.stop()


@pytest.fixture
def mailbox(smtp_server: Mailbox) -> Iterator[Mailbox]:
    """The server, emptied for this test (and running again if a test stopped it)."""
    smtp_server.clear()
    if smtp_server._controller is None:
        smtp_server.start()
    yield smtp_server
    if smtp_server._controller is None:
        smtp_server.start()


@pytest.fixture
def notify_db(db: Database) -> Database:
    """The test database (SQLite and PostgreSQL) at the latest schema, with the ledger's
    system accounts (the ledger invariants are checked after the test as for ``db``)."""
    prepare_database(db, "EUR")
    return db
