"""Many terminals charging one user at the same moment never overspend (SQLite and
PostgreSQL): 8 concurrent clients, spread over two backend processes on one database,
hold, then capture, against one account."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
from backend_fixtures import SECRET, Backend, start_backend, stop_backend, write_config
from pg_cluster import free_port

from backend.terminals import register_terminal

PROCESSES = 2
CLIENTS = 8
ATTEMPTS_PER_CLIENT = 20
HOLD = Decimal("0.50")


def test_eight_terminals_hammering_carol_never_overspend(backend: Backend,
                                                         tmp_path: Path) -> None:
    """Two real backend processes on one database, four terminals on each: only the
    database's own guard (the write lock on SQLite, the row lock on PostgreSQL) stands
    between them, not a lock inside one process."""
    tokens = [f"hammer-terminal-{n}" for n in range(CLIENTS)]
    with backend.db.write() as session:
        for token in tokens:
            register_terminal(session, SECRET, token, token)
    start = backend.client.get("/api/v1/users/carol/balance",
                               headers=backend.headers(user="carol")).json()
    available = Decimal(start["available"])  # 70.00: 140 holds of 0.50, asked 160 times
    url = backend.db.engine.url.render_as_string(hide_password=False)
    ports = [free_port() for _ in range(PROCESSES)]
    processes = [start_backend(write_config(tmp_path / f"b{n}.toml", url, port,
                                            "[refill]\nenabled = false\n"))
                 for n, port in enumerate(ports)]
    barrier = threading.Barrier(CLIENTS)

    def client(index: int) -> list[str]:
        headers = backend.headers(tokens[index], user="carol")
        held = []
        with httpx.Client(base_url=f"http://127.0.0.1:{ports[index % PROCESSES]}/api/v1",
                          headers=headers, timeout=60) as http:
            barrier.wait()
            for attempt in range(ATTEMPTS_PER_CLIENT):
                answer = http.post("/holds", json={
                    "idempotency_key": f"t{index}-hold-{attempt}", "username": "carol",
                    "amount": str(HOLD)})
                assert answer.status_code in (201, 409), answer.text
                if answer.status_code == 201:
                    held.append(answer.json()["hold_id"])
                else:
                    assert answer.json()["code"] == "insufficient_funds"
            for number, hold_id in enumerate(held):
                done = http.post(f"/holds/{hold_id}/capture", json={
                    "idempotency_key": f"t{index}-capture-{number}", "amount": str(HOLD)})
                assert done.status_code == 200, done.text
        return held

    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            holds = [hold for held in pool.map(client, range(CLIENTS)) for hold in held]
    finally:
        for process in processes:
            stop_backend(process)

    assert len(holds) == int(available / HOLD) == 140
    end = backend.client.get("/api/v1/users/carol/balance",
                             headers=backend.headers(user="carol")).json()
    assert end["virtual_credit"] == "0.00"
    assert end["personal_credit"] == "0.00"
    assert end["held"] == "0.00"


def test_eight_simultaneous_retries_of_one_request_charge_once(backend: Backend) -> None:
    barrier = threading.Barrier(CLIENTS)
    backend.session_for("alice")  # opened once, before the threads race

    def send(_index: int) -> tuple[int, str]:
        barrier.wait()
        answer = backend.client.post("/api/v1/holds", headers=backend.headers(user="alice"), json={
            "idempotency_key": "same-key-for-all", "username": "alice", "amount": "2.00"})
        return answer.status_code, answer.json()["hold_id"]

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(send, range(CLIENTS)))
    assert {status for status, _ in answers} == {201}
    assert len({hold_id for _, hold_id in answers}) == 1
    balance = backend.client.get("/api/v1/users/alice/balance",
                                 headers=backend.headers(user="alice"))
    assert balance.json()["held"] == "2.00"
