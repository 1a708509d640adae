"""Helpers of the administration console's site-settings tests (admin_site): a site with
a price list directory, a page on it, and the terminal API as a kiosk calls it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from backend_fixtures import SECRET
from sqlalchemy import select
from web_site import WebSite, serving

from backend import terminal_sessions
from backend.api.deps import SESSION_HEADER
from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN
from backend.models import User
from backend.terminals import authenticate

OLD_DEFAULT = """[price_list]
name = "Old default"
currency = "EUR"
scope = "default"
effective_from = 2026-01-01

[print]
mono = { A4 = "0.10" }
colour = { A4 = "0.50" }
"""


@contextmanager
def priced_site(db: Database, folder: Path) -> Iterator[WebSite]:
    """The site with ``[pricing] price_lists_dir`` holding OLD_DEFAULT."""
    lists = folder / "pricelists"
    lists.mkdir()
    (lists / "default.toml").write_text(OLD_DEFAULT, encoding="utf-8")
    with serving(db, {"pricing": {"price_lists_dir": str(lists)}}) as served:
        yield served


@contextmanager
def browser_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def kiosk_headers(site: WebSite, username: str | None = None,
                  token: str = DEMO_TERMINAL_TOKEN) -> dict[str, str]:
    """The demo terminal's Authorization, with a session of ``username`` there."""
    headers = {"Authorization": f"Bearer {token}"}
    if username is not None:
        with site.db.write() as session:
            terminal = authenticate(session, SECRET, token)
            user = session.scalars(select(User).where(User.username == username)).one()
            headers[SESSION_HEADER] = terminal_sessions.start(session, SECRET, terminal.id,
                                                              user.id)
    return headers


def api(site: WebSite) -> httpx.Client:
    return httpx.Client(base_url=site.url + "/api/v1", timeout=10)
