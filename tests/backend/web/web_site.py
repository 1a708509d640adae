"""The web pages over a real HTTP server, for the browser tests: the app as the backend
builds it (``create_app``) served by uvicorn in a thread on a free loopback port, over the
test's database (SQLite and PostgreSQL, from the backend fixtures), with the demo data
and the demo web accounts; and helpers for Playwright pages (sign in, screenshots,
the axe-core accessibility check)."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from backend_fixtures import SECRET

from backend.app import create_app
from backend.config import BackendConfig
from backend.db import Database
from backend.demo import seed_demo
from backend.demo_web import seed_demo_web
from printkiosk.commands.demo import free_port

REPO = Path(__file__).resolve().parents[3]
AXE = REPO / ".peers" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
# WCAG 2.1 A and AA rules: what the issue asks the pages to meet
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class WebSite:
    url: str
    db: Database
    config: BackendConfig
    app: Any


@contextmanager
def chromium() -> Iterator[Any]:
    """The system Chromium under Playwright, for one test module (see the web conftest:
    not for the session, Playwright's sync API keeps an asyncio loop on the thread)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def serving(db: Database, settings: dict[str, Any] | None = None) -> Iterator[WebSite]:
    """The backend app on 127.0.0.1:<free port> until the block ends."""
    config = BackendConfig.model_validate({"database": {"url": str(db.engine.url)},
                                           **(settings or {})})
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, config.ledger.currency)
    seed_demo_web(db, SECRET)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web test server did not start")
        time.sleep(0.02)
    try:
        yield WebSite(f"http://127.0.0.1:{port}", db, config, app)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def artifacts_dir() -> Path:
    """test-artifacts/web/ (PRINTKIOSK_TEST_ARTIFACTS as scripts/test.sh sets it)."""
    base = Path(os.environ.get("PRINTKIOSK_TEST_ARTIFACTS", REPO / "test-artifacts"))
    folder = base / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Any, name: str) -> Path:
    """The whole page as test-artifacts/web/NAME.png."""
    target = artifacts_dir() / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    return target


def sign_in(page: Any, site: WebSite, username: str, password: str,
            path: str = "/login") -> None:
    """Sign in through the form, as a person does."""
    page.goto(site.url + path)
    page.get_by_label(re.compile("Username|Identifiant")).fill(username)
    page.get_by_label(re.compile("Password|Mot de passe")).fill(password)
    page.get_by_role("button", name=re.compile("Sign in|Se connecter")).click()
    page.wait_for_load_state()


def accessibility_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as shown, one line each.

    Loaded with ``evaluate`` (the DevTools protocol), not a script tag: the pages' CSP
    allows scripts from the site only, and the test must not weaken it.
    """
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: scripts/setup.sh fetches axe-core")
    page.evaluate(AXE.read_text())
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => v.id + ': ' + v.help + ' -- ' +"
        " v.nodes.map(n => n.target.join(' ')).join(', ')))", AXE_TAGS)
    return list(found)


def assert_accessible(page: Any) -> None:
    problems = accessibility_violations(page)
    assert not problems, "axe-core (WCAG 2.1 AA):\n" + "\n".join(problems)
