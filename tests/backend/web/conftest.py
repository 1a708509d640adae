"""Browser fixtures: one Chromium per test session (Playwright, the system Chromium),
a fresh context per test; the site over the test's database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web_site import CHROMIUM, WebSite, serving

from backend.db import Database


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def site(db: Database) -> Iterator[WebSite]:
    with serving(db) as served:
        yield served


@pytest.fixture
def page(browser: Any, site: WebSite) -> Iterator[Any]:
    """A desktop-sized page in a context of its own (no cookies of another test)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    context.set_default_timeout(10_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()
