"""The cash desk: search as you type over 100 000 users, and the desk's page weight.

    .venv/bin/python bench/bench_web.py [--users 100000] [--rounds 20]

1. PostgreSQL (the tests' launcher, default settings), migrated, the demo data, then
   ``--users`` users with realistic names and e-mails (one multi-row insert batch).
2. A real backend process (``printkiosk backend``, uvicorn, one worker) on it; the demo
   clerk signs in over HTTP. Then the clerk "types" names: for each of a set of real
   surnames and usernames, every prefix from 1 character (what htmx sends after each
   200 ms pause), ``GET /cash-desk/search?q=...`` with the session cookie: p50/p95 of the
   round trip. Every answer must be a 200 (anything else ends the run).
3. The peer, same run, same database: the SQL the endpoint runs (compiled from
   ``backend.cash_desk_search.search_users``' statement), executed over psycopg for the
   same queries: p50/p95. The difference is the page's cost (HTTP, session check,
   rendering), which the same endpoint with an empty query (no search) also measures.
   EXPLAIN of a 1-, a 3- and a 6-character query is printed, to show the
   plans use the indexes of migration 0013.
4. Page weight: Chromium (Playwright) opens /cash-desk signed in, with an empty cache,
   and types one name; the bytes transferred (headers + bodies, per resource type).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "backend"))

import pg_cluster  # noqa: E402  (the tests' PostgreSQL launcher, reused)
from backend_fixtures import SECRET, start_backend, stop_backend, write_config  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from backend.db import Database  # noqa: E402
from backend.demo import seed_demo  # noqa: E402
from backend.demo_web import seed_demo_web  # noqa: E402
from backend.migrate import upgrade  # noqa: E402
from backend.models import User  # noqa: E402

FIRST = ["Marie", "Jean", "Pierre", "Sophie", "Luc", "Camille", "Nicolas", "Julie", "Thomas",
         "Léa", "Antoine", "Chloé", "Hugo", "Emma", "Louis", "Manon", "Paul", "Inès", "Noah",
         "Sarah", "Adam", "Zoé", "Lucas", "Alice", "Gabriel", "Jade", "Arthur", "Lina"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
        "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "Andre", "Mercier",
        "Dupont", "Lambert", "Bonnet", "Francois", "Martinez", "Legrand", "Garnier", "Faure"]
TYPED = ["dupont", "mercier", "martin", "lefebvre", "zoe", "u04711", "garnier", "inès"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def add_users(db: Database, count: int) -> None:
    rng = random.Random(17)
    rows = []
    for number in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append({"username": f"u{number:05d}", "display_name": f"{first} {last}",
                     "email": f"{first.lower()}.{last.lower()}{number}@univ.example",
                     "language": "fr", "status": "disabled" if number % 50 == 0 else "active",
                     "overdraft_limit": 0})
    with db.write() as session:
        for start in range(0, count, 5000):
            session.execute(insert(User), rows[start:start + 5000])


def _keep_cookies(client: httpx.Client, answer: httpx.Response) -> None:
    """The site's cookies are Secure (browsers send those to http://127.0.0.1, httpx's
    jar does not): kept by hand for this loopback client."""
    for name, value in answer.cookies.items():
        client.cookies.set(name, value)


def sign_in(client: httpx.Client) -> None:
    shown = client.get("/login")
    _keep_cookies(client, shown)
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
    assert token is not None
    answer = client.post("/login", data={"csrf_token": token[1], "username": "clerk",
                                         "password": "clerk-demo-pass", "next": "/cash-desk"})
    assert answer.status_code == 303, answer.status_code
    _keep_cookies(client, answer)


def typed_queries(rounds: int) -> list[str]:
    """Every prefix of every typed word, ``rounds`` times over."""
    one = [word[:length] for word in TYPED for length in range(1, len(word) + 1)]
    return one * rounds


def sql_of(url: str, query: str) -> str:
    """The statement search_users runs for ``query``, with its values inlined."""
    from sqlalchemy.dialects import postgresql

    from backend import cash_desk_search

    captured: list[str] = []

    class Recorder:
        def get_bind(self) -> object:
            return type("Bind", (), {"dialect": postgresql.dialect()})()

        def execute(self, statement: object) -> object:
            compiled = statement.compile(  # type: ignore[attr-defined]
                dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
            # literal_binds doubles % for the driver's paramstyle; run without parameters
            captured.append(str(compiled).replace("%%", "%"))

            class Empty:
                def tuples(self) -> list[object]:
                    return []
            return Empty()

    cash_desk_search.search_users(Recorder(), query)  # type: ignore[arg-type]
    return captured[0]


def bench_http(base: str, queries: list[str]) -> list[float]:
    timings = []
    with httpx.Client(base_url=base, timeout=10) as client:
        sign_in(client)
        for query in queries:
            started = time.perf_counter()
            answer = client.get("/cash-desk/search", params={"q": query},
                                headers={"HX-Request": "true"})
            timings.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"search {query!r}: HTTP {answer.status_code}")
    return timings


def bench_sql(dsn: str, url: str, queries: list[str]) -> tuple[list[float], dict[str, str]]:
    import psycopg

    statements = {query: sql_of(url, query) for query in set(queries)}
    timings = []
    with psycopg.connect(dsn) as connection:
        for query in queries:
            started = time.perf_counter()
            connection.execute(statements[query]).fetchall()
            timings.append((time.perf_counter() - started) * 1000)
        plans = {}
        for query in ("d", "dup", "dupont"):
            rows = connection.execute("EXPLAIN " + statements[query]).fetchall()
            plans[query] = "\n".join(row[0] for row in rows)
    return timings, plans


def _add(sizes: dict[str, int], requests: list[object], label: str) -> None:
    for request in requests:
        kind = label + request.resource_type  # type: ignore[attr-defined]
        size = request.sizes()  # type: ignore[attr-defined]
        sizes[kind] = sizes.get(kind, 0) + size["responseBodySize"] + \
            size["responseHeadersSize"]


def page_weight(base: str) -> dict[str, int]:
    from playwright.sync_api import sync_playwright

    sizes: dict[str, int] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(base + "/login?next=/cash-desk")
        page.fill("#username", "clerk")
        page.fill("#password", "clerk-demo-pass")
        page.click("button[type=submit]")
        page.wait_for_url(base + "/cash-desk")
        # a fresh context (empty cache) with the signed-in session's cookies
        signed_in = page.context.cookies()
        fresh = browser.new_context()
        fresh.add_cookies(signed_in)  # type: ignore[arg-type]
        page = fresh.new_page()
        responses: list[object] = []
        page.on("requestfinished", lambda request: responses.append(request))
        page.goto(base + "/cash-desk", wait_until="networkidle")
        _add(sizes, responses, "load: ")
        responses.clear()
        page.locator("#desk-q").press_sequentially("dupont", delay=250)
        page.wait_for_load_state("networkidle")
        time.sleep(0.5)
        _add(sizes, responses, "typing 'dupont': ")
        browser.close()
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if not pg_cluster.available():
        raise SystemExit("PostgreSQL 15 is not installed")
    queries = typed_queries(args.rounds)
    with pg_cluster.running_postgres(settings="") as server, \
            tempfile.TemporaryDirectory() as work:
        server.admin("CREATE DATABASE web")
        url = server.url("web")
        db = Database.from_url(url)
        upgrade(db.engine)
        seed_demo(db, SECRET, "EUR")
        seed_demo_web(db, SECRET)
        started = time.perf_counter()
        add_users(db, args.users)
        print(f"{args.users} users inserted in {time.perf_counter() - started:.1f} s")
        with db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE users")
            connection.commit()
        db.dispose()
        port = pg_cluster.free_port()
        process = start_backend(write_config(Path(work) / "backend.toml", url, port))
        try:
            base = f"http://127.0.0.1:{port}"
            bench_http(base, queries[:50])  # warm-up: imports, template cache, pool
            http = bench_http(base, queries)
            # the peer over HTTP: the same endpoint with an empty query (same session
            # check, same rendering of an empty list, no SQL search)
            empty = bench_http(base, [""] * len(queries))
            sql, plans = bench_sql(f"host=127.0.0.1 port={server.port} user=postgres "
                                   "dbname=web", url, queries)
            weight = page_weight(base)
        finally:
            stop_backend(process)
    print(f"{len(queries)} searches as typed ({len(TYPED)} words, every prefix)")
    for label, timings in (("GET /cash-desk/search (HTTP)", http),
                           ("the same SQL over psycopg", sql),
                           ("GET /cash-desk/search?q= (HTTP, no search)", empty)):
        print(f"{label}: p50 {statistics.median(timings):.1f} ms, "
              f"p95 {percentile(timings, 0.95):.1f} ms, max {max(timings):.1f} ms")
    for query, plan in plans.items():
        print(f"-- EXPLAIN for {query!r}:\n{plan}")
    load = sum(size for kind, size in weight.items() if kind.startswith("load: "))
    print("page weight (headers + bodies): " + ", ".join(
        f"{kind} {size / 1024:.1f} KB" for kind, size in sorted(weight.items()))
        + f"; first load total {load / 1024:.1f} KB")


if __name__ == "__main__":
    main()
