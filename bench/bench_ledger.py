"""Ledger throughput: charges per second (hold + capture over HTTP) with 1, 4 and 16
concurrent terminal clients, on SQLite and on PostgreSQL, with p50/p99 latency of one
charge; and, in the same run on the same PostgreSQL server, pgbench's TPC-B-like figure
with the same client counts (the same kind of account-update workload, without HTTP).

    .venv/bin/python bench/bench_ledger.py [--seconds 5] [--clients 1,4,16]

The backend runs as a real ``printkiosk backend`` process (uvicorn, one worker); each
client is a terminal with its own token charging its own user, like kiosks beside
different printers; a last row has every client charging the same user (the row lock's
worst case). PostgreSQL runs with its default durability settings (fsync on).

Each client first opens a session the way a kiosk does, with a card login of its user
at its own terminal (outside the timed charges), and sends the session's token with
every hold: without one a hold is an offline hold, capped at the offline limit (5.00 per
user and 24 h), which 50 charges reach. A refused or failed charge fails the run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "backend"))

import pg_cluster  # noqa: E402  (the tests' PostgreSQL launcher, reused)

from backend.api.deps import SESSION_HEADER  # noqa: E402
from backend.app import prepare_database  # noqa: E402
from backend.config import SECRET_ENV  # noqa: E402
from backend.db import Database  # noqa: E402
from backend.ledger import credit  # noqa: E402
from backend.models import AccountKind, Card, User  # noqa: E402
from backend.security import card_hash  # noqa: E402
from backend.terminals import register_terminal  # noqa: E402

SECRET = "bench-secret-key"
CHARGE = "0.10"


def card_of(n: int) -> str:
    """The card of user bench{n}, with which its client logs in."""
    return f"77{n:06d}"


def prepare(url: str, clients: int) -> None:
    db = Database.from_url(url)
    prepare_database(db, "EUR")
    with db.write() as session:
        for n in range(clients):
            register_terminal(session, SECRET.encode(), f"bench-{n}", f"bench-token-{n}")
            user = User(
                username=f"bench{n}",
                display_name=f"Bench {n}",
                language="en",
                overdraft_limit=Decimal("0"),
            )
            session.add(user)
            session.flush()
            session.add(Card(user_id=user.id, card_hash=card_hash(SECRET.encode(), card_of(n)),
                             label="bench"))
            credit(
                session,
                user,
                "EUR",
                kind="deposit",
                amount=Decimal("1000000.00"),
                source_kind=AccountKind.CASH_DRAWER,
                description="bench",
            )
    db.dispose()


def start_backend(url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = pg_cluster.free_port()
    config = workdir / f"backend-{port}.toml"
    config.write_text(
        f'[server]\nport = {port}\n\n[database]\nurl = "{url}"\npool_size = 20\n', encoding="utf-8"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "printkiosk", "backend", "--config", str(config)],
        env={**os.environ, SECRET_ENV: SECRET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("backend did not start")


def log_in(base: str, terminal: int, user: int) -> str:
    """A card login of bench{user} at terminal bench-{terminal}: the session's token."""
    badge = httpx.post(f"{base}/api/v1/sessions", json={"card": card_of(user)}, timeout=30,
                       headers={"Authorization": f"Bearer bench-token-{terminal}"})
    if badge.status_code != 200:
        raise RuntimeError(f"card login {badge.status_code}: {badge.text}")
    token: str = badge.json()["session"]["token"]
    return token


def run_clients(
    base: str, clients: int, seconds: float, one_user: bool = False
) -> tuple[int, list[float]]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    # each user badges at its client's terminal, as at a kiosk, before the clock starts:
    # the holds are then online (with no session they are offline holds, capped)
    sessions = [log_in(base, index, 0 if one_user else index) for index in range(clients)]
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        try:
            charges(index)
        except Exception as exc:  # a client that dies must fail the run, not shrink it
            errors.append(f"client {index}: {type(exc).__name__}: {exc}")

    def charges(index: int) -> None:
        headers = {"Authorization": f"Bearer bench-token-{index}",
                   SESSION_HEADER: sessions[index]}
        user = 0 if one_user else index
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            n = 0
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                key = f"c{index}-{n}-{time.time_ns()}"
                hold = http.post(
                    "/api/v1/holds",
                    json={
                        "idempotency_key": f"h-{key}",
                        "username": f"bench{user}",
                        "amount": CHARGE,
                    },
                )
                if hold.status_code != 201 or hold.json()["offline"]:
                    errors.append(f"hold {hold.status_code}: {hold.text}")
                    return
                done = http.post(
                    f"/api/v1/holds/{hold.json()['hold_id']}/capture",
                    json={"idempotency_key": f"c-{key}", "amount": CHARGE},
                )
                if done.status_code != 200:
                    errors.append(f"capture {done.status_code}: {done.text}")
                    return
                latencies[index].append(time.perf_counter() - started)
                n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"charge failed: {errors[0]}")
    flat = [value for per_client in latencies for value in per_client]
    return len(flat), flat


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_database(label: str, url: str, counts: list[int], seconds: float, workdir: Path) -> None:
    prepare(url, max(counts))
    process, base = start_backend(url, workdir)
    try:
        run_clients(base, 1, 1.0)  # warm-up: connections, caches
        rows = [(clients, False) for clients in counts] + [(max(counts), True)]
        for clients, one_user in rows:
            charges, latencies = run_clients(base, clients, seconds, one_user)
            target = "one user" if one_user else "own users"
            print(
                f"{label:<11} {clients:>3} clients  {target:<9} {charges / seconds:8.1f} "
                f"charges/s  p50 {statistics.median(latencies) * 1000:6.1f} ms  "
                f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms",
                flush=True,
            )
    finally:
        process.terminate()
        process.wait(timeout=10)


def pgbench(server: pg_cluster.PgServer, counts: list[int], seconds: float) -> None:
    binary = str(server.bin_dir / "pgbench")
    conn = ["-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres"]
    server.admin("CREATE DATABASE pgbench")
    subprocess.run(
        [binary, *conn, "-i", "-q", "-s", "1", "pgbench"], check=True, capture_output=True
    )
    for clients in counts:
        done = subprocess.run(
            [
                binary,
                *conn,
                "-c",
                str(clients),
                "-j",
                str(min(clients, 2)),
                "-T",
                str(int(seconds)),
                "pgbench",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        tps = re.search(r"tps = ([\d.]+)", done.stdout)
        latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
        print(
            f"{'pgbench':<11} {clients:>3} clients  {'TPC-B':<9} "
            f"{float(tps.group(1)) if tps else 0:8.1f} tx/s       "
            f"avg {float(latency.group(1)) if latency else 0:6.1f} ms",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,4,16")
    args = parser.parse_args()
    counts = [int(part) for part in args.clients.split(",")]
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-ledger-")))
        print(
            f"one charge = hold {CHARGE} + capture {CHARGE} over HTTP; {args.seconds:g} s per row",
            flush=True,
        )
        bench_database(
            "sqlite", f"sqlite:///{workdir}/bench.sqlite3", counts, args.seconds, workdir
        )
        if not pg_cluster.available():
            print("PostgreSQL 15 not installed: PostgreSQL rows skipped")
            return 0
        server = stack.enter_context(pg_cluster.running_postgres(settings=""))
        server.admin("CREATE DATABASE ledger")
        bench_database("postgresql", server.url("ledger"), counts, args.seconds, workdir)
        pgbench(server, counts, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
