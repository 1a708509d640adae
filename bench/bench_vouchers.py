"""Vouchers: creating 100 000 through the real CLI, and redemption latency over HTTP.

    .venv/bin/python bench/bench_vouchers.py [--count 100000] [--redemptions 1000]

1. ``printkiosk vouchers create --count 100000 --output codes.csv`` as its own process
   (what an operator runs: Python start, migration check, 100 000 codes with their HMAC,
   the bulk insert, the encrypted export blob and the 0600 CSV): wall time and the
   process's peak resident memory (``wait4``'s ``ru_maxrss``). Goal: under 10 s.
2. A real backend process (``printkiosk backend``, uvicorn, one worker) on that database:
   carol badges once; then, alternately, ``POST /vouchers/redeem`` of the next sold code
   and ``GET /users/carol/balance`` (the no-op peer: an authenticated read through the
   same terminal token and user session, same server, same run). p50/p99 of each.
   Every redemption must be a 200 credit and every balance a 200: anything else ends the
   run (a refusal is never counted as a fast answer).

SQLite, and PostgreSQL when it is installed (the create step runs on both).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "backend"))

import pg_cluster  # noqa: E402  (the tests' PostgreSQL launcher, reused)
from backend_fixtures import SECRET, start_backend, stop_backend, write_config  # noqa: E402

from backend import vouchers  # noqa: E402
from backend.api.deps import SESSION_HEADER  # noqa: E402
from backend.config import SECRET_ENV  # noqa: E402
from backend.db import Database  # noqa: E402
from backend.demo import DEMO_TERMINAL_TOKEN, seed_demo  # noqa: E402

HEADERS = {"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def create_with_cli(config: Path, output: Path, count: int) -> tuple[float, float, str]:
    """(seconds, peak MiB, batch id) of one ``printkiosk vouchers create`` process."""
    env = {**os.environ, "PYTHONPATH": str(REPO), SECRET_ENV: SECRET.decode()}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "printkiosk", "vouchers", "create", "--config", str(config),
         "--value", "1.00", "--count", str(count), "--expires", "2099-12-31",
         "--prefix", "BENCH", "--output", str(output)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    if status != 0:
        raise RuntimeError(f"create failed ({status}): {err}")
    batch = out.split("Created batch ", 1)[1].split(":", 1)[0]
    return seconds, usage.ru_maxrss / 1024, batch  # ru_maxrss is in KiB on Linux


def redeem_latency(base: str, codes: list[str]) -> tuple[list[float], list[float]]:
    redeem: list[float] = []
    balance: list[float] = []
    with httpx.Client(base_url=base, headers=HEADERS, timeout=60) as http:
        badge = http.post("/sessions", json={"card": "1003"})
        if badge.status_code != 200:
            raise RuntimeError(f"card login {badge.status_code}: {badge.text}")
        http.headers[SESSION_HEADER] = badge.json()["session"]["token"]
        for code in codes:
            started = time.perf_counter()
            answer = http.post("/vouchers/redeem", json={"code": code,
                                                         "idempotency_key": str(uuid.uuid4())})
            redeem.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"redeem {answer.status_code}: {answer.text}")
            started = time.perf_counter()
            answer = http.get("/users/carol/balance")
            balance.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"balance {answer.status_code}: {answer.text}")
    return redeem, balance


def bench_database(label: str, url: str, count: int, redemptions: int, workdir: Path) -> None:
    config = write_config(workdir / f"{label}.toml", url, pg_cluster.free_port(),
                          "[refill]\nenabled = false\n")
    output = workdir / f"{label}-codes.csv"
    seconds, peak_mib, batch = create_with_cli(config, output, count)
    print(f"{label:<11} create {count} vouchers (real CLI process): {seconds:5.2f} s, "
          f"peak RSS {peak_mib:6.1f} MiB  (goal < 10 s)", flush=True)
    with output.open(encoding="utf-8") as handle:
        codes = [row["code"] for row in csv.DictReader(handle)][:redemptions + 20]
    db = Database.from_url(url)
    seed_demo(db, SECRET)
    with db.write() as session:
        vouchers.sell(session, batch, len(codes), "cash", "bench", actor="bench")
    db.dispose()
    process = start_backend(config)
    base = f"http://127.0.0.1:{config.read_text().split('port = ')[1].split()[0]}/api/v1"
    try:
        redeem_latency(base, codes[:20])  # warm-up: connections, caches
        redeem, balance = redeem_latency(base, codes[20:])
    finally:
        stop_backend(process)
    for name, values in (("POST /vouchers/redeem", redeem),
                         ("GET /users/{u}/balance (peer)", balance)):
        print(f"{label:<11} {name:<30} n={len(values):5d}  "
              f"p50 {statistics.median(values) * 1000:6.1f} ms  "
              f"p99 {percentile(values, 0.99) * 1000:6.1f} ms", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--redemptions", type=int, default=1000)
    args = parser.parse_args()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-vch-")))
        bench_database("sqlite", f"sqlite:///{workdir}/vouchers.sqlite3", args.count,
                       args.redemptions, workdir)
        if not pg_cluster.available():
            print("PostgreSQL 15 not installed: PostgreSQL rows skipped")
            return 0
        server = stack.enter_context(pg_cluster.running_postgres(settings=""))
        server.admin("CREATE DATABASE vouchers")
        bench_database("postgresql", server.url("vouchers"), args.count, args.redemptions,
                       workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
