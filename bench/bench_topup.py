"""Top-ups: from the payment to the new balance at a waiting kiosk, over HTTP.

    .venv/bin/python bench/bench_topup.py [--count 200]

A real backend process (``printkiosk backend``, uvicorn, one worker) with the demo
gateway. Bob badges once; then for each top-up: ``POST /topups``, a long-poll
``GET /topups/{id}?wait_s=25`` in a thread (the kiosk), and when it waits, the phone's
``POST /pay/{token}`` on the demo page (the payment: the same ``settle_top_up`` a
webhook runs). The figure is the time from the page's answer (the payment confirmed and
committed) to the long-poll's answer with the new balance. In the same run, after each
top-up, a plain ``GET /users/bob/balance`` for comparison. Every top-up must end paid
with the balance 5.00 higher: anything else ends the run.

SQLite, and PostgreSQL when it is installed. Goal p99 < 2 s, moonshot < 300 ms.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "backend"))

import pg_cluster  # noqa: E402  (the tests' PostgreSQL launcher, reused)
from backend_fixtures import SECRET, start_backend, stop_backend, write_config  # noqa: E402

from backend.api.deps import SESSION_HEADER  # noqa: E402
from backend.app import prepare_database  # noqa: E402
from backend.db import Database  # noqa: E402
from backend.demo import DEMO_TERMINAL_TOKEN, seed_demo  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def one_top_up(http: httpx.Client, phone: httpx.Client) -> tuple[float, float]:
    """(payment confirmed -> balance at the kiosk, plain balance GET), in seconds."""
    before = Decimal(http.get("/users/bob/balance").json()["personal_credit"])
    created = http.post("/topups", json={"amount": "5.00",
                                         "idempotency_key": str(uuid.uuid4())})
    if created.status_code != 201:
        raise RuntimeError(f"POST /topups {created.status_code}: {created.text}")
    top_up = created.json()["topup"]
    page = phone.get(top_up["pay_url"])
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    if csrf is None:
        raise RuntimeError(f"no pay form: {page.status_code} {page.text[:200]}")
    answered: list[tuple[float, Any]] = []

    def kiosk() -> None:
        answer = http.get(f"/topups/{top_up['id']}", params={"wait_s": 25}, timeout=40)
        answered.append((time.perf_counter(), answer.json()))

    waiting = threading.Thread(target=kiosk)
    waiting.start()
    time.sleep(0.3)  # the kiosk is waiting (not counted)
    if answered:
        raise RuntimeError(f"the long-poll answered before the payment: {answered}")
    paid = phone.post(top_up["pay_url"], content=f"csrf={csrf[1]}&action=pay",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    confirmed = time.perf_counter()
    if paid.status_code != 200 or "is paid" not in paid.text:
        raise RuntimeError(f"pay {paid.status_code}: {paid.text[:200]}")
    waiting.join(timeout=30)
    at, body = answered[0]
    if body["topup"]["status"] != "paid" or Decimal(
            body["balance"]["personal_credit"]) != before + Decimal("5.00"):
        raise RuntimeError(f"the kiosk saw {body}")
    started = time.perf_counter()
    balance = http.get("/users/bob/balance")
    plain = time.perf_counter() - started
    if balance.status_code != 200:
        raise RuntimeError(f"balance {balance.status_code}")
    return at - confirmed, plain


def bench_database(label: str, url: str, count: int, workdir: Path) -> None:
    db = Database.from_url(url)
    prepare_database(db, "EUR")
    seed_demo(db, SECRET, "EUR")
    db.dispose()
    port = pg_cluster.free_port()
    config = write_config(workdir / f"{label}.toml", url, port,
                          '[payments]\ngateway = "demo"\n'
                          f'public_base_url = "http://127.0.0.1:{port}"\n'
                          'max_amount = "1000.00"\n\n[payments.demo]\nenabled = true\n')
    process = start_backend(config)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=f"{base}/api/v1", timeout=30,
                          headers={"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"}) as http, \
                httpx.Client(timeout=30) as phone:
            badge = http.post("/sessions", json={"card": "1002"})
            if badge.status_code != 200:
                raise RuntimeError(f"card login {badge.status_code}: {badge.text}")
            http.headers[SESSION_HEADER] = badge.json()["session"]["token"]
            waits, plains = [], []
            for _ in range(count):
                wait, plain = one_top_up(http, phone)
                waits.append(wait)
                plains.append(plain)
    finally:
        stop_backend(process)
    ms = [value * 1000 for value in waits]
    plain_ms = [value * 1000 for value in plains]
    print(f"{label}: {count} top-ups: payment -> balance at the waiting kiosk "
          f"p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
          f"max {max(ms):.1f} ms; plain GET balance p50 {percentile(plain_ms, 0.5):.1f} ms, "
          f"p99 {percentile(plain_ms, 0.99):.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-topup-") as work, ExitStack() as stack:
        workdir = Path(work)
        bench_database("SQLite", f"sqlite:///{workdir / 'backend.sqlite3'}", args.count,
                       workdir)
        if pg_cluster.available():
            server = stack.enter_context(pg_cluster.running_postgres())
            server.admin("CREATE DATABASE bench_topup")
            bench_database("PostgreSQL", server.url("bench_topup"), args.count, workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
