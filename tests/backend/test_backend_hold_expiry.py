"""Stale holds expire on the server's own schedule (issue 11 item 2): two real backend
processes on one database (SQLite and PostgreSQL) void every stale hold exactly once,
each expiry audited, and leave fresh holds alone."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from backend_fixtures import Backend, start_backend, stop_backend, write_config
from pg_cluster import free_port
from sqlalchemy import select, update

from backend.models import AuditEntry, Hold, utcnow

STALE = {"alice": 20, "carol": 60, "bob": 4}  # holds of 0.50 each, made stale
SCHEDULE = "[holds]\nexpire_after_h = 24\ncheck_interval_s = 1\n\n[refill]\nenabled = false\n"


def _hold(backend: Backend, key: str, username: str) -> str:
    answer = backend.client.post("/api/v1/holds", headers=backend.headers(user=username), json={
        "idempotency_key": key, "username": username, "amount": "0.50"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["hold_id"])


def test_two_backends_expire_each_stale_hold_once_and_audit_it(
        backend: Backend, tmp_path: Path) -> None:
    stale = [_hold(backend, f"stale-{user}-{n}", user)
             for user, count in STALE.items() for n in range(count)]
    fresh = _hold(backend, "fresh-alice-1", "alice")
    url = backend.db.engine.url.render_as_string(hide_password=False)
    processes = [start_backend(write_config(tmp_path / f"b{n}.toml", url, free_port(),
                                            SCHEDULE)) for n in range(2)]
    try:
        time.sleep(1.5)  # both schedules have ticked: nothing is older than a day yet
        with backend.db.read() as session:
            assert session.scalar(select(Hold.status).where(Hold.id == stale[0])) == "open"
        # The kiosk that took them died a day ago: both schedules now race for them.
        with backend.db.write() as session:
            session.execute(update(Hold).where(Hold.id.in_(stale))
                            .values(created_at=utcnow() - timedelta(hours=25)))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with backend.db.read() as session:
                still_open = session.scalars(select(Hold.id).where(
                    Hold.id.in_(stale), Hold.status == "open")).all()
            if not still_open:
                break
            time.sleep(0.2)
        assert not still_open, f"{len(still_open)} stale holds still open after 60 s"
        time.sleep(2.5)  # more ticks of both: they must find nothing left to do
    finally:
        for process in processes:
            stop_backend(process)
    with backend.db.read() as session:
        audited = session.execute(select(AuditEntry.subject, AuditEntry.actor)
                                  .where(AuditEntry.action == "hold.expire")).all()
        statuses = dict(session.execute(select(Hold.id, Hold.status)).tuples().all())
    assert sorted(subject for subject, _actor in audited) == sorted(stale)  # once each
    assert {actor for _subject, actor in audited} == {"scheduler"}
    assert {statuses[hold_id] for hold_id in stale} == {"voided"}
    assert statuses[fresh] == "open"
    balance = backend.client.get("/api/v1/users/carol/balance",
                                 headers=backend.headers(user="carol"))
    assert balance.json()["held"] == "0.00"
    late = backend.client.post(f"/api/v1/holds/{stale[0]}/capture", headers=backend.headers(),
                               json={"idempotency_key": "late-capture-1", "amount": "0.50"})
    assert late.status_code == 409 and late.json()["code"] == "hold_settled"


def test_cli_expire_holds_uses_the_configured_age(backend: Backend, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from backend_fixtures import SECRET

    from backend.config import SECRET_ENV

    old, young = _hold(backend, "cli-old-1", "alice"), _hold(backend, "cli-young-1", "alice")
    with backend.db.write() as session:
        session.execute(update(Hold).where(Hold.id == old)
                        .values(created_at=utcnow() - timedelta(hours=3)))
        session.execute(update(Hold).where(Hold.id == young)
                        .values(created_at=utcnow() - timedelta(hours=1)))
    url = backend.db.engine.url.render_as_string(hide_password=False)
    config = write_config(tmp_path / "cli.toml", url, free_port(),
                          "[holds]\nexpire_after_h = 2\n")
    done = subprocess.run([sys.executable, "-m", "printkiosk", "backend", "--config",
                           str(config), "expire-holds"], capture_output=True, text=True,
                          timeout=60, check=False, env={**os.environ,
                                                        SECRET_ENV: SECRET.decode()})
    assert done.returncode == 0, done.stderr
    assert "1 open holds older than 2 h voided" in done.stdout
    with backend.db.read() as session:
        assert session.scalar(select(AuditEntry.actor).where(
            AuditEntry.action == "hold.expire", AuditEntry.subject == old)) == "cli"
        assert session.scalar(select(Hold.status).where(Hold.id == young)) == "open"


def test_a_backlog_is_expired_in_batches_of_short_transactions(
        backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    from backend import holds_expiry

    monkeypatch.setattr(holds_expiry, "BATCH", 3)
    stale = [_hold(backend, f"backlog-{n}", "carol") for n in range(7)]
    with backend.db.write() as session:
        session.execute(update(Hold).values(created_at=utcnow() - timedelta(hours=25)))
    transactions: list[int] = []
    real_write = backend.db.write

    def counting_write() -> Any:
        transactions.append(1)
        return real_write()

    monkeypatch.setattr(backend.db, "write", counting_write)
    voided = holds_expiry.expire_stale_holds(backend.db, timedelta(hours=24), actor="test")
    assert sorted(voided) == sorted(stale)
    assert len(transactions) == 3  # 3 + 3 + 1
