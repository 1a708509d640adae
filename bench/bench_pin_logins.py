"""Hold latency with and without concurrent PIN logins, against a real backend process.

    .venv/bin/python bench/bench_pin_logins.py [--seconds 5] [--logins 0,1,4]

PIN logins cost one scrypt each (tens of milliseconds, on purpose). Issue 12 found that
scrypt ran inside the SQLite write transaction, so every hold of the site queued behind
PIN logins (hold p95 27 ms -> 765 ms). One client takes holds in a loop while 0, 1 or 4
other clients log in by PIN in a loop; each row prints the holds' p50/p95/p99, the logins
per second, and the time of one scrypt measured in the same run (the floor of a login).
The backend is ``printkiosk backend`` (uvicorn, one worker) on SQLite, and on PostgreSQL
when it is installed.

The holds are carol's, online, as a kiosk takes them: her card (1003) opens a session
and its token goes with every hold (without one a hold is an offline hold, a different
path capped per user). Every login and hold must succeed: a refusal (429, 403, ...) is
reported and ends the run, it is never counted as a fast answer.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

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

HEADERS = {"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"}
# The login threads log in by PIN in a loop from the one demo terminal, far faster than
# a person at a kiosk: at the product's rate (30/min, burst 10) they would be refused in
# microseconds (429 rate_limited) and leave the holds unloaded, which is not what this
# bench measures (scrypt's share of a login beside the holds).
LOGINS_ALLOWED = "[sessions]\nlogins_per_minute = 10000\nlogin_burst = 10000\n"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def scrypt_ms() -> float:
    started = time.perf_counter()
    hashlib.scrypt(b"1234", salt=bytes(16), n=2**14, r=8, p=1)  # the PIN hashes' cost
    return (time.perf_counter() - started) * 1000


def one_row(base: str, label: str, logins: int, seconds: float, show: bool = True) -> None:
    stop = threading.Event()
    done_logins = [0]
    failures: list[str] = []

    def log_in_loop() -> None:
        try:
            with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as http:
                while not stop.is_set():
                    answer = http.post("/sessions", json={"username": "alice", "pin": "1234"})
                    if answer.status_code != 200:
                        raise RuntimeError(f"PIN login {answer.status_code}: {answer.text}")
                    done_logins[0] += 1
        except Exception as exc:  # reported by the row, which fails: never a silent thread
            failures.append(f"{type(exc).__name__}: {exc}")
            stop.set()

    threads = [threading.Thread(target=log_in_loop) for _ in range(logins)]
    for thread in threads:
        thread.start()
    latencies: list[float] = []
    try:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=60) as http:
            # carol badges once, as at a kiosk; her holds carry the session (online)
            badge = http.post("/sessions", json={"card": "1003"})
            if badge.status_code != 200:
                raise RuntimeError(f"card login {badge.status_code}: {badge.text}")
            http.headers[SESSION_HEADER] = badge.json()["session"]["token"]
            started_row = time.monotonic()
            n = 0
            while time.monotonic() - started_row < seconds and not stop.is_set():
                started = time.perf_counter()
                hold = http.post("/holds", json={
                    "idempotency_key": f"bench-{label}-{logins}-{n:06d}-{time.time_ns()}",
                    "username": "carol", "amount": "0.01"})
                latencies.append(time.perf_counter() - started)
                if hold.status_code != 201 or hold.json()["offline"]:
                    raise RuntimeError(f"hold {hold.status_code}: {hold.text}")
                void = http.post(f"/holds/{hold.json()['hold_id']}/void", json={
                    "idempotency_key": f"void-{label}-{logins}-{n:06d}-{time.time_ns()}"})
                if void.status_code != 200:
                    raise RuntimeError(f"void {void.status_code}: {void.text}")
                n += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    elapsed = time.monotonic() - started_row
    if failures:
        raise RuntimeError(f"{label}, {logins} PIN-login clients: {failures[0]}")
    if not show:
        return
    print(f"{label:<11} {logins:>2} PIN-login clients  holds: {len(latencies):4d}  "
          f"p50 {statistics.median(latencies) * 1000:6.1f} ms  "
          f"p95 {percentile(latencies, 0.95) * 1000:6.1f} ms  "
          f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms   "
          f"logins {done_logins[0] / elapsed:5.1f}/s   one scrypt {scrypt_ms():5.1f} ms",
          flush=True)


def bench_database(label: str, url: str, counts: list[int], seconds: float,
                   workdir: Path) -> None:
    db = Database.from_url(url)
    prepare_database(db, "EUR")
    seed_demo(db, SECRET)
    db.dispose()
    port = pg_cluster.free_port()
    process = start_backend(write_config(workdir / f"{label}.toml", url, port, LOGINS_ALLOWED))
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        one_row(base, label, 0, 1.0, show=False)  # warm-up: connections, caches
        for logins in counts:
            one_row(base, label, logins, seconds)
    finally:
        stop_backend(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--logins", default="0,1,4")
    args = parser.parse_args()
    counts = [int(part) for part in args.logins.split(",")]
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pin-")))
        bench_database("sqlite", f"sqlite:///{workdir}/pins.sqlite3", counts, args.seconds,
                       workdir)
        if not pg_cluster.available():
            print("PostgreSQL 15 not installed: PostgreSQL rows skipped")
            return 0
        server = stack.enter_context(pg_cluster.running_postgres(settings=""))
        server.admin("CREATE DATABASE pins")
        bench_database("postgresql", server.url("pins"), counts, args.seconds, workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
