"""Database defaults: SQLite file under the user's data directory, in WAL mode; a bare
postgresql:// URL uses psycopg 3; the schema is at Alembic head after start."""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from pg_cluster import free_port
from platformdirs import user_data_dir
from sqlalchemy import text

from backend.app import create_app
from backend.config import SECRET_ENV, BackendConfig
from backend.db import Database, normalise_url
from backend.demo import DEMO_TERMINAL_TOKEN, seed_demo
from backend.migrate import MIGRATIONS, alembic_config, upgrade

REPO = Path(__file__).resolve().parents[2]


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
    # The cash desk's search indexes (migration 0013) are expressions, per dialect, and
    # the trigram ones exist only where pg_trgm could be created: not in the model.
    diff = [change for change in diff if not (
        change[0] == "remove_index"
        and change[1].name.startswith(("ix_users_lower_", "ix_users_trgm_")))]
    assert diff == []


# --- private files, damaged or emptied databases (issue 12, items 5 and 8) -------------

def test_sqlite_file_and_its_wal_and_shm_are_created_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # what a shell or a unit without UMask= gives
    try:
        db = Database.from_url(f"sqlite:///{tmp_path}/data/p.sqlite3")
        with db.write() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
        files = {path.name: stat.S_IMODE(path.stat().st_mode)
                 for path in (tmp_path / "data").iterdir()}
        db.dispose()
    finally:
        os.umask(previous)
    assert set(files) == {"p.sqlite3", "p.sqlite3-wal", "p.sqlite3-shm"}
    assert files == dict.fromkeys(files, 0o600), {name: oct(mode) for name, mode in files.items()}


def test_the_systemd_units_set_a_private_umask() -> None:
    units = sorted((REPO / "systemd").glob("*.service"))
    assert {unit.name for unit in units} >= {"printkiosk-backend.service",
                                             "printkiosk-kiosk.service"}
    for unit in units:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(unit, encoding="utf-8")
        assert parser.get("Service", "UMask", fallback=None) == "0077", unit.name


def _site(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A backend.toml with its own key file and SQLite file: (config, database, key)."""
    database, key = tmp_path / "backend.sqlite3", tmp_path / "secret.key"
    config = tmp_path / "backend.toml"
    config.write_text(f'[server]\nhost = "127.0.0.1"\nport = {free_port()}\n\n'
                      f'[database]\nurl = "sqlite:///{database}"\n\n'
                      f'[security]\nsecret_key_file = "{key}"\n', encoding="utf-8")
    return config, database, key


def _backend(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``printkiosk backend`` (serving, unless an action is given), with no key in the
    environment: the key file is the one of the site. A server that starts instead of
    refusing is stopped after ``timeout`` and reported as such."""
    env = {name: value for name, value in os.environ.items() if name != SECRET_ENV}
    command = [sys.executable, "-m", "printkiosk", "backend", "--config", str(config), *args]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"printkiosk backend {' '.join(args)} did not stop within {timeout} s: "
                    f"it started on the database instead of refusing it ({stderr[-300:]})")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _assert_one_line_refusal(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_an_emptied_database_is_refused_when_the_secret_key_exists(tmp_path: Path) -> None:
    config, database, key = _site(tmp_path)
    first = _backend(config, "--demo-data", "--migrate-only")  # a site's first start
    assert first.returncode == 0, first.stderr
    assert key.exists() and database.stat().st_size > 0
    database.write_bytes(b"")  # the data is lost (truncated, or restored from nothing)
    _assert_one_line_refusal(_backend(config, timeout=20), str(database), "empty",
                             str(key))
    _assert_one_line_refusal(_backend(config, "check"), str(database), "empty")
    database.unlink()  # deleted altogether: the same
    _assert_one_line_refusal(_backend(config, "--migrate-only"), str(database), "empty")
    # The demo seeds a new database on purpose (printkiosk demo --reset): not refused.
    demo = _backend(config, "--demo-data", "--migrate-only")
    assert demo.returncode == 0, demo.stderr


def test_a_first_start_without_a_secret_key_creates_the_database(tmp_path: Path) -> None:
    config, database, key = _site(tmp_path)
    database.write_bytes(b"")  # e.g. created by the installer: no key yet, a new site
    done = _backend(config, "--migrate-only")
    assert done.returncode == 0, done.stderr
    assert key.exists() and database.stat().st_size > 0
    checked = _backend(config, "check")
    assert checked.returncode == 0, checked.stderr
    assert "quick_check" in checked.stdout


def test_a_database_with_damaged_pages_is_refused_at_start_and_by_check(
        tmp_path: Path) -> None:
    from backend_fixtures import SECRET

    config, database, key = _site(tmp_path)
    key.write_text(SECRET.decode(), encoding="ascii")
    key.chmod(0o600)
    ledger = Database.from_url(f"sqlite:///{database}")
    backend_config = BackendConfig.model_validate({"database": {"url": str(ledger.engine.url)}})
    app = create_app(backend_config, ledger, SECRET)
    seed_demo(ledger, SECRET)
    with TestClient(app) as client:  # a real ledger: some holds taken, some captured
        for n in range(40):
            hold = client.post("/api/v1/holds", headers={
                "Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"}, json={
                "idempotency_key": f"damage-hold-{n:03d}", "username": "carol",
                "amount": "0.10", "description": "x" * 200})
            assert hold.status_code == 201, hold.text
    ledger.dispose()  # checkpoints the WAL into the file
    page_size = int.from_bytes(database.read_bytes()[16:18], "big")
    pages = database.stat().st_size // page_size
    assert pages > 10
    with database.open("r+b") as damaged:  # a disk or copy error in the middle
        damaged.seek((pages // 2) * page_size)
        damaged.write(os.urandom(3 * page_size))
    _assert_one_line_refusal(_backend(config, timeout=20), str(database), "quick_check")
    _assert_one_line_refusal(_backend(config, "check"), str(database), "quick_check")


def test_quick_check_findings_are_one_line_naming_the_file(tmp_path: Path) -> None:
    """A cell pointer out of range in a table page: SQLite reports it as rows of findings
    spread over several lines (``*** in database main ***\nOn tree page ...``), or, from
    some connections, as an error; the refusal is one line either way."""
    from backend.db import DatabaseRefused, verify_database

    path = tmp_path / "cells.sqlite3"
    db = Database.from_url(f"sqlite:///{path}")
    with db.write() as session:
        session.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT)"))
        for n in range(3000):
            session.execute(text("INSERT INTO t VALUES (:n, :y)"), {"n": n, "y": f"v{n:069d}"})
    db.dispose()
    content = path.read_bytes()
    leaves = [n for n in range(1, len(content) // 4096) if content[n * 4096] == 0x0D]
    assert len(leaves) > 10  # 0x0D: a b-tree leaf page of a table
    with path.open("r+b") as damaged:  # its 11th cell pointer (they start at offset 8)
        damaged.seek(leaves[len(leaves) // 2] * 4096 + 8 + 2 * 10)
        damaged.write(b"\xff\xff")
    db = Database.from_url(f"sqlite:///{path}")
    with pytest.raises(DatabaseRefused) as refused:
        verify_database(db, None)
    db.dispose()
    message = str(refused.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: damaged database: PRAGMA quick_check"), message


def test_migration_0005_carries_pin_counters_over_to_pin_attempts(db: Database) -> None:
    from alembic import command

    upgrade(db.engine)
    command.downgrade(alembic_config(db.engine), "0004")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (username, display_name, language, status, pin_hash, "
            "pin_failed_attempts, pin_locked_until, overdraft_limit, created_at) VALUES "
            "('dora', 'Dora', 'en', 'active', NULL, 3, NULL, 0, '2026-11-30 10:00:00'), "
            "('eve', 'Eve', 'en', 'active', NULL, 0, '2099-01-01 00:00:00', 0, "
            "'2026-11-30 10:00:00'), "
            "('finn', 'Finn', 'en', 'active', NULL, 0, NULL, 0, '2026-11-30 10:00:00')"))
    upgrade(db.engine)
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT username, failed_attempts, locked_until IS NOT NULL FROM pin_attempts "
            "ORDER BY username")).all()
    assert [tuple(row) for row in rows] == [("dora", 3, False), ("eve", 0, True)]


def test_migration_0011_keeps_the_audit_log_and_widens_its_actor(db: Database) -> None:
    """Issue 16: on SQLite the wider ``audit_log.actor`` rebuilds the table; the rows of
    an existing site survive, and a technician's 153-character actor fits (PostgreSQL
    refused more than 100 before)."""
    from alembic import command

    upgrade(db.engine)
    command.downgrade(alembic_config(db.engine), "0010")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO audit_log (at, actor, action, subject, details) VALUES "
            "('2026-11-30 10:00:00', 'cli:ops', 'terminal.enrol', 'kiosk-1', NULL)"))
    upgrade(db.engine)
    actor = f"technician:{'t' * 100}@terminal:{'0' * 32}"
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO audit_log (at, actor, action, subject, details) VALUES "
            "('2026-12-01 10:00:00', :actor, 'technician.reboot', 'terminal:x', NULL)"),
            {"actor": actor})
        rows = connection.execute(text(
            "SELECT actor, action FROM audit_log ORDER BY id")).all()
        roles = connection.execute(text("SELECT COUNT(*) FROM user_roles")).scalar_one()
    assert [tuple(row) for row in rows] == [("cli:ops", "terminal.enrol"),
                                            (actor, "technician.reboot")]
    assert roles == 0
