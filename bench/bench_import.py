"""CSV imports beside a live kiosk (issue 12 item 4): the time of
``printkiosk backend import-users`` and ``import-billing-codes`` on 100 000-line files,
and the latency of a kiosk's hold over HTTP while they run, against idle.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--idle-s 5] [--no-postgres]

The backend runs as a real ``printkiosk backend`` process (uvicorn, one worker) over a
demo-seeded database; the imports run as the CLI does, in their own process, on the same
database. A kiosk thread places a hold of 0.10 for alice and voids it, every 50 ms, the
whole time; each row of the table is the holds that ran during that step. As at a kiosk,
alice badges first (card 1001) and every hold carries her session: without one a hold is
an offline hold, another path, capped per user. Any hold or void that is refused, fails
or comes back offline is counted in the row's failure column and listed under the
table (status and code), never counted as a fast answer. Each import is
run twice: the first run creates every line, the second updates every line (the names
change). The peer figure is the floor: the same file's rows written by the database's
own bulk path in one statement stream (sqlite3 ``executemany`` in one transaction; on
PostgreSQL ``COPY``), into a bare table without checks, indexes of ours or ledger.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "backend"))

import pg_cluster  # noqa: E402  (the tests' PostgreSQL launcher, reused)
from import_files import billing_codes_csv, users_csv  # noqa: E402

from backend.api.deps import SESSION_HEADER  # noqa: E402
from backend.app import prepare_database  # noqa: E402
from backend.config import SECRET_ENV  # noqa: E402
from backend.db import Database  # noqa: E402
from backend.demo import DEMO_TERMINAL_TOKEN, seed_demo  # noqa: E402

SECRET = "bench-secret-key"
CARD = "1001"  # alice's card in the demo data
OK = "ok"


@dataclass
class Kiosk:
    """Holds for alice in a loop; ``mark()`` starts a new measured step."""

    base: str
    # (hold latency, outcome): OK, or what went wrong with the hold or its void
    steps: list[list[tuple[float, str]]] = field(default_factory=lambda: [[]])
    stop: threading.Event = field(default_factory=threading.Event)
    session: str = ""
    crashed: str | None = None

    def mark(self) -> list[tuple[float, str]]:
        done = self.steps[-1]
        self.steps.append([])
        return done

    def log_in(self) -> None:
        """alice badges at the kiosk: her session goes with every hold."""
        badge = httpx.post(f"{self.base}/api/v1/sessions", json={"card": CARD}, timeout=30,
                           headers={"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"})
        if badge.status_code != 200:
            raise RuntimeError(f"card login {badge.status_code}: {badge.text}")
        self.session = badge.json()["session"]["token"]

    def run(self) -> None:
        try:
            self._holds()
        except Exception as exc:  # reported by bench_database, which fails
            self.crashed = f"{type(exc).__name__}: {exc}"

    def _holds(self) -> None:
        headers = {"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}",
                   SESSION_HEADER: self.session}
        with httpx.Client(base_url=self.base, headers=headers, timeout=120) as http:
            n = 0
            while not self.stop.is_set():
                n += 1
                key = f"bench-{n:07d}-{time.time_ns()}"
                started = time.perf_counter()
                try:
                    hold = http.post("/api/v1/holds", json={
                        "idempotency_key": f"h-{key}", "username": "alice", "amount": "0.10"})
                except httpx.TransportError as exc:
                    self.steps[-1].append((time.perf_counter() - started,
                                           f"hold {type(exc).__name__}"))
                    continue
                latency = time.perf_counter() - started
                outcome = OK
                if hold.status_code != 201:
                    outcome = f"hold {hold.status_code} {problem_code(hold)}"
                elif hold.json()["offline"]:
                    outcome = "hold 201 but offline"
                if hold.status_code == 201:
                    void = http.post(f"/api/v1/holds/{hold.json()['hold_id']}/void",
                                     json={"idempotency_key": f"v-{key}"})
                    if void.status_code != 200 and outcome == OK:
                        outcome = f"void {void.status_code} {problem_code(void)}"
                self.steps[-1].append((latency, outcome))
                time.sleep(0.05)


def problem_code(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("code", ""))
    except ValueError:
        return answer.text[:80]


def start_backend(url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], Path, str]:
    port = pg_cluster.free_port()
    config = workdir / f"backend-{port}.toml"
    config.write_text(f'[server]\nport = {port}\n\n[database]\nurl = "{url}"\n',
                      encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "printkiosk", "backend", "--config", str(config)],
        env={**os.environ, SECRET_ENV: SECRET}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return process, config, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("backend did not start")


def cli_import(config: Path, action: str, csv_file: Path, *extra: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "printkiosk", "backend", "--config", str(config), action,
         "--file", str(csv_file), *extra],
        env={**os.environ, SECRET_ENV: SECRET}, capture_output=True, text=True, cwd=REPO,
        check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{action} failed: {done.stderr[-2000:]}")
    return elapsed


def latency_row(label: str, seconds: float | None, samples: list[tuple[float, str]],
                failures: list[str]) -> str:
    failed = sum(1 for _, outcome in samples if outcome != OK)
    if failed:
        counts: dict[str, int] = {}
        for _, outcome in samples:
            if outcome != OK:
                counts[outcome] = counts.get(outcome, 0) + 1
        failures.append(f"{label}: " + ", ".join(f"{n} x {what}" for what, n in counts.items()))
    ms = sorted(latency * 1000 for latency, _ in samples) or [0.0]
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    took = f"{seconds:6.1f} s" if seconds is not None else "      -"
    return (f"| {label:<34} | {took} | {len(samples):5d} | {failed:3d} | "
            f"{statistics.median(ms):6.1f} | {p95:6.1f} | {ms[-1]:7.1f} |")


def peer_floor(label: str, url: str, text: str) -> float:
    """The same rows through the database's bulk path into a bare table."""
    rows = list(csv.reader(io.StringIO(text)))[1:]
    width = len(rows[0])
    started = time.perf_counter()
    if label == "sqlite":
        path = url.removeprefix("sqlite:///") + ".peer"
        with sqlite3.connect(path) as conn:
            columns = ", ".join(f"c{n} TEXT" for n in range(width))
            conn.execute(f"CREATE TABLE peer ({columns})")
            conn.executemany(f"INSERT INTO peer VALUES ({', '.join('?' * width)})", rows)
        os.unlink(path)
    else:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            columns = ", ".join(f"c{n} TEXT" for n in range(width))
            conn.execute(f"CREATE TEMP TABLE peer ({columns})")
            with conn.cursor().copy("COPY peer FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                copy.write(text)
    return time.perf_counter() - started


def bench_database(label: str, url: str, rows: int, idle_s: float, workdir: Path) -> None:
    db = Database.from_url(url)
    prepare_database(db, "EUR")
    seed_demo(db, SECRET.encode())
    db.dispose()
    files = {}
    for kind, make in (("users", users_csv), ("codes", billing_codes_csv)):
        for run, suffix in (("create", ""), ("update", " v2")):
            path = workdir / f"{label}-{kind}-{run}.csv"
            path.write_text(make(rows, name_suffix=suffix), encoding="utf-8")
            files[kind, run] = path
    process, config, base = start_backend(url, workdir)
    kiosk = Kiosk(base)
    thread = threading.Thread(target=kiosk.run)
    table = [f"| {label}: step ({rows} lines) | import | holds | failed | p50 ms | "
             "p95 ms | max ms |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    failures: list[str] = []
    try:
        kiosk.log_in()
        thread.start()
        time.sleep(1.0)
        kiosk.mark()  # warm-up
        time.sleep(idle_s)
        table.append(latency_row("idle (no import)", None, kiosk.mark(), failures))
        steps = [("import-users --dry-run", "import-users", ("users", "create"), ("--dry-run",)),
                 ("import-users, all new", "import-users", ("users", "create"), ()),
                 ("import-users, all updated", "import-users", ("users", "update"), ()),
                 ("import-billing-codes --dry-run", "import-billing-codes", ("codes", "create"),
                  ("--dry-run",)),
                 ("import-billing-codes, all new", "import-billing-codes", ("codes", "create"),
                  ()),
                 ("import-billing-codes, all updated", "import-billing-codes",
                  ("codes", "update"), ())]
        for name, action, key, extra in steps:
            seconds = cli_import(config, action, files[key], *extra)
            table.append(latency_row(name, seconds, kiosk.mark(), failures))
            print(table[-1], flush=True)
        time.sleep(idle_s)
        table.append(latency_row("idle again", None, kiosk.mark(), failures))
    finally:
        kiosk.stop.set()
        thread.join(timeout=150)
        process.terminate()
        process.wait(timeout=10)
    for kind in ("users", "codes"):
        text = files[kind, "create"].read_text(encoding="utf-8")
        table.append(f"| **peer**: {kind} rows, bare bulk insert | "
                     f"{peer_floor(label, url, text):6.1f} s | | | | | |")
    print("\n".join(table), flush=True)
    if kiosk.crashed:
        raise RuntimeError(f"{label}: the kiosk thread stopped: {kiosk.crashed}")
    if failures:
        print(f"{label}: holds that failed (not counted as answers):\n  "
              + "\n  ".join(failures), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--idle-s", type=float, default=5.0)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-import-")))
        bench_database("sqlite", f"sqlite:///{workdir}/bench.sqlite3", args.rows,
                       args.idle_s, workdir)
        if args.no_postgres or not pg_cluster.available():
            print("PostgreSQL rows skipped")
            return 0
        server = stack.enter_context(pg_cluster.running_postgres(settings=""))
        server.admin("CREATE DATABASE imports")
        bench_database("postgresql", server.url("imports"), args.rows, args.idle_s, workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
