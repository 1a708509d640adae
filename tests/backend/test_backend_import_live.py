"""Imports beside live kiosks (issue 12 item 4), on SQLite, where the write lock is one
for the whole database: a dry run never takes it, a checked file is written in short
batches, so a hold over HTTP succeeds while a big file is imported by the CLI; an import
killed mid-way is completed by importing the same file again."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from backend_fixtures import SECRET, start_backend, stop_backend, write_config
from import_files import billing_codes_csv, users_csv
from pg_cluster import free_port
from sqlalchemy import func, select

from backend.api.deps import SESSION_HEADER
from backend.app import prepare_database
from backend.billing_codes import import_csv
from backend.config import SECRET_ENV
from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN, seed_demo
from backend.ledger import check_invariants
from backend.models import Card, CostCentre, Group, User, UserGroup
from backend.users_import import import_users_csv


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    path = tmp_path / "backend.sqlite3"
    db = Database.from_url(f"sqlite:///{path}")
    prepare_database(db, "EUR")
    seed_demo(db, SECRET)
    yield db, path
    with db.read() as session:
        report = check_invariants(session)
    db.dispose()
    assert report.ok, report


@pytest.fixture
def write_lock_taken(sqlite_db: tuple[Database, Path]) -> Iterator[Database]:
    """The database with its write lock held by another connection for the whole test,
    as a long write of another process would hold it."""
    db, path = sqlite_db
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield db
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_dry_run_takes_no_write_lock(write_lock_taken: Database) -> None:
    """Both dry runs complete while another writer holds the lock (they used to wait for
    it, then fail with "database is locked" after busy_timeout, 30 s)."""
    started = time.monotonic()
    codes = import_csv(write_lock_taken, billing_codes_csv(2000), actor="test", dry_run=True)
    users = import_users_csv(write_lock_taken, users_csv(2000), SECRET, actor="test",
                             dry_run=True)
    assert codes.errors == [] and len(codes.created) == 2000 and not codes.applied
    assert users.errors == [] and len(users.created) == 2000 and not users.applied
    print(f"two dry runs of 2000 lines under another writer's lock: "
          f"{time.monotonic() - started:.1f} s")


def test_a_bad_file_is_refused_without_taking_the_write_lock(write_lock_taken: Database) -> None:
    bad = billing_codes_csv(2000) + "BAD,Orphan,NOPE,true,,\n"
    report = import_csv(write_lock_taken, bad, actor="test")
    assert report.errors == ["line 2002: parent: no billing code 'NOPE'"]
    assert not report.applied


@dataclass
class LiveKiosk:
    """A kiosk in a loop over HTTP: alice badges (card login), then a hold on her credit,
    then its void. ``rounds`` holds (login status, hold status, seconds for both)."""

    url: str
    rounds: list[tuple[int, int, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=60) as http:
            n = 0
            while not self.stop.is_set():
                n += 1
                started = time.perf_counter()
                login = http.post("/api/v1/sessions", json={"card": "1001"})
                session = login.json().get("session", {}).get("token", "")
                hold = http.post("/api/v1/holds", headers={SESSION_HEADER: session}, json={
                    "idempotency_key": f"live-hold-{n:06d}", "username": "alice",
                    "amount": "0.10"})
                self.rounds.append((login.status_code, hold.status_code,
                                    time.perf_counter() - started))
                if hold.status_code == 201:
                    http.post(f"/api/v1/holds/{hold.json()['hold_id']}/void",
                              json={"idempotency_key": f"live-void-{n:06d}"})
                time.sleep(0.05)


@pytest.mark.parametrize(("action", "make_file"), [
    ("import-billing-codes", billing_codes_csv),
    ("import-users", users_csv),
])
def test_a_live_hold_succeeds_during_a_big_import(
        sqlite_db: tuple[Database, Path], tmp_path: Path, action: str,
        make_file: Callable[[int], str]) -> None:
    """The CLI imports 20 000 lines into the file a real backend process serves, while a
    kiosk places holds over HTTP: every hold succeeds (one transaction for the whole file
    made them fail with a 500 "database is locked" after 30 s, and stalled card logins)."""
    _db, path = sqlite_db
    # A badge every 50 ms from one terminal: far over its login rate (429) otherwise.
    config = write_config(tmp_path / "backend.toml", f"sqlite:///{path}", free_port(),
                          "[sessions]\nlogins_per_minute = 10000\nlogin_burst = 10000\n")
    csv_file = tmp_path / "big.csv"
    csv_file.write_text(make_file(20_000), encoding="utf-8")
    server = start_backend(config)
    live = LiveKiosk(f"http://127.0.0.1:{_port(config)}")
    kiosk = threading.Thread(target=live.run)
    try:
        kiosk.start()
        time.sleep(0.5)
        before = len(live.rounds)
        import_run = subprocess.run(
            [sys.executable, "-m", "printkiosk", "backend", "--config", str(config), action,
             "--file", str(csv_file)], capture_output=True, text=True, timeout=600,
            env=_env(), check=False)
        during = live.rounds[before:]
    finally:
        live.stop.set()
        kiosk.join(timeout=120)
        stop_backend(server)
    assert import_run.returncode == 0, import_run.stderr
    assert len(during) >= 5, "the kiosk made too few calls during the import to tell"
    assert {(login, hold) for login, hold, _ in during} == {(200, 201)}, during
    print(f"{action}: {len(during)} card logins + holds during the import, slowest "
          f"{max(seconds for _, _, seconds in during) * 1000:.0f} ms")


def test_an_import_killed_midway_converges_when_run_again(
        sqlite_db: tuple[Database, Path], tmp_path: Path) -> None:
    """SIGKILL after the first batches are written, then the same file again: the site
    ends exactly as after one clean import (no half-written user, nothing twice)."""
    db, path = sqlite_db
    config = write_config(tmp_path / "backend.toml", f"sqlite:///{path}", free_port())
    csv_file = tmp_path / "users.csv"
    csv_file.write_text(users_csv(20_000), encoding="utf-8")
    command = [sys.executable, "-m", "printkiosk", "backend", "--config", str(config),
               "import-users", "--file", str(csv_file)]
    first = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _count(db, User) < 3 + 2000 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    partial = _count(db, User) - 3
    assert 0 < partial < 20_000, f"the kill came too late or too early ({partial} users)"
    again = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=600,
                           check=False)
    assert again.returncode == 0, again.stderr
    killed_then_again = _site(db)

    clean_path = tmp_path / "clean.sqlite3"
    clean = Database.from_url(f"sqlite:///{clean_path}")
    prepare_database(clean, "EUR")
    seed_demo(clean, SECRET)
    assert import_users_csv(clean, users_csv(20_000), SECRET, actor="cli").applied
    assert killed_then_again == _site(clean)
    clean.dispose()
    print(f"killed after {partial} users; the second run completed the file")


def _site(db: Database) -> dict[str, Any]:
    """Every imported fact per user, by name (ids differ between two databases)."""
    with db.read() as session:
        users = {user.id: user for user in session.scalars(select(User))}
        centres = dict(session.execute(select(CostCentre.id, CostCentre.code)).tuples().all())
        groups = dict(session.execute(select(Group.id, Group.name)).tuples().all())
        membership: dict[int, set[str]] = {}
        for user_id, group_id in session.execute(select(UserGroup.user_id, UserGroup.group_id)):
            membership.setdefault(user_id, set()).add(groups[group_id])
        cards: dict[int, set[str]] = {}
        for user_id, digest in session.execute(select(Card.user_id, Card.card_hash)):
            cards.setdefault(user_id, set()).add(digest)
        return {
            user.username: (user.display_name, user.email, user.language, user.status,
                            user.overdraft_limit, centres.get(user.cost_centre_id),
                            membership.get(user_id, set()), cards.get(user_id, set()))
            for user_id, user in users.items()
        }


def _count(db: Database, model: type[Any]) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _port(config: Path) -> int:
    return int(tomllib.loads(config.read_text(encoding="utf-8"))["server"]["port"])


def _env() -> dict[str, str]:
    return {**os.environ, SECRET_ENV: SECRET.decode()}
