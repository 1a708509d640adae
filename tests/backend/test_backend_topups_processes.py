"""The long-poll across backend processes (issue 14): the kiosk waits on one backend
process, the phone pays on another's demo page; the waiter of the first wakes the
long-poll within 2 s. Two real processes on PostgreSQL (and on SQLite)."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from backend_fixtures import SECRET, start_backend, stop_backend, write_config
from pg_cluster import free_port
from sqlalchemy import select

from backend import terminal_sessions
from backend.app import prepare_database
from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN, seed_demo
from backend.models import User
from backend.terminals import authenticate


@pytest.fixture
def two_backends(db: Database, tmp_path: Path) -> Iterator[tuple[str, str]]:
    prepare_database(db, "EUR")
    seed_demo(db, SECRET, "EUR")
    urls, processes = [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            config = write_config(tmp_path / f"{name}.toml",
                                  db.engine.url.render_as_string(False), port,
                                  '[payments]\ngateway = "demo"\n'
                                  f'public_base_url = "http://127.0.0.1:{port}"\n\n'
                                  "[payments.demo]\nenabled = true\n")
            processes.append(start_backend(config))
            urls.append(f"http://127.0.0.1:{port}")
        yield urls[0], urls[1]
    finally:
        for process in processes:
            stop_backend(process)


def _headers(db: Database, username: str) -> dict[str, str]:
    with db.write() as session:
        terminal = authenticate(session, SECRET, DEMO_TERMINAL_TOKEN)
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        token = terminal_sessions.start(session, SECRET, terminal.id, user.id)
    return {"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}", "X-Printkiosk-Session": token}


def test_a_payment_in_one_process_wakes_the_long_poll_in_the_other_within_2_s(
        db: Database, two_backends: tuple[str, str]) -> None:
    kiosk_side, phone_side = two_backends
    headers = _headers(db, "bob")
    created = httpx.post(f"{kiosk_side}/api/v1/topups", headers=headers,
                         json={"amount": "5.00", "idempotency_key": str(uuid.uuid4())})
    assert created.status_code == 201, created.text
    top_up = created.json()["topup"]
    before: dict[str, Any] = httpx.get(f"{kiosk_side}/api/v1/users/bob/balance",
                                       headers=headers).json()
    woken: list[tuple[float, dict[str, Any]]] = []

    def long_poll() -> None:
        answer = httpx.get(f"{kiosk_side}/api/v1/topups/{top_up['id']}?wait_s=25",
                           headers=headers, timeout=40)
        woken.append((time.monotonic(), answer.json()))

    waiting = threading.Thread(target=long_poll)
    waiting.start()
    time.sleep(1.0)
    assert not woken
    # the phone opens the QR's URL on the other process (same token, same database)
    path = top_up["pay_url"].split("/pay/", 1)[1]
    page = httpx.get(f"{phone_side}/pay/{path}")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None, page.text
    paid = httpx.post(f"{phone_side}/pay/{path}", content=f"csrf={csrf[1]}&action=pay",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    paid_at = time.monotonic()
    assert paid.status_code == 200 and "is paid" in paid.text
    waiting.join(timeout=30)
    at, answer = woken[0]
    assert at - paid_at < 2.0, at - paid_at
    assert answer["topup"]["status"] == "paid"
    assert Decimal(answer["balance"]["personal_credit"]) == \
        Decimal(before["personal_credit"]) + Decimal("5.00")


@pytest.fixture
def one_backend(db: Database, tmp_path: Path) -> Iterator[str]:
    prepare_database(db, "EUR")
    seed_demo(db, SECRET, "EUR")
    port = free_port()
    config = write_config(tmp_path / "backend.toml", db.engine.url.render_as_string(False),
                          port, '[payments]\ngateway = "demo"\n'
                          f'public_base_url = "http://127.0.0.1:{port}"\n'
                          "check_interval_s = 1\n\n[payments.demo]\nenabled = true\n")
    process = start_backend(config)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_backend(process)


def test_sixty_waiting_long_polls_do_not_starve_other_requests(
        db: Database, one_backend: str) -> None:
    """More waiters than the thread pool has threads (40): a waiting long-poll holds
    none, so a balance read still answers at once. The polls wait 20 s and the read
    must answer within 5: a starved read would wait for a poll to end (20 s), and the
    margin keeps a busy machine (a second test worker) from failing a pool that works."""
    headers = _headers(db, "bob")
    ids = []
    with httpx.Client(base_url=f"{one_backend}/api/v1", headers=headers, timeout=30) as http:
        for _ in range(60):
            created = http.post("/topups", json={"amount": "2.00",
                                                 "idempotency_key": str(uuid.uuid4())})
            ids.append(created.json()["topup"]["id"])
    answers: list[int] = []

    def long_poll(public_id: str) -> None:
        with httpx.Client(timeout=60) as own:
            answers.append(own.get(f"{one_backend}/api/v1/topups/{public_id}?wait_s=20",
                                   headers=headers).status_code)

    threads = [threading.Thread(target=long_poll, args=(public_id,)) for public_id in ids]
    for thread in threads:
        thread.start()
    time.sleep(2.0)  # all of them waiting now
    started = time.monotonic()
    balance = httpx.get(f"{one_backend}/api/v1/users/bob/balance", headers=headers,
                        timeout=30)
    took = time.monotonic() - started
    assert balance.status_code == 200
    assert not answers, "the long-polls should still be waiting"
    assert took < 5.0, took
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [200] * 60


def test_the_servers_schedule_expires_top_ups(db: Database, one_backend: str) -> None:
    from datetime import timedelta

    from topup_helpers import status, user_id

    from backend import ledger, topups
    from backend.models import utcnow

    with db.write() as session:
        user = ledger.lock_user(session, user_id(db, "bob"))
        old = topups.create_top_up(session, SECRET, user=user, terminal_id=None,
                                   amount=Decimal("5.00"), currency="EUR",
                                   gateway_name="demo", expire_after=timedelta(minutes=10),
                                   now=utcnow() - timedelta(minutes=11))
        session.expunge(old)
    deadline = time.monotonic() + 10
    while status(db, old).status == "pending" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status(db, old).status == "expired"
