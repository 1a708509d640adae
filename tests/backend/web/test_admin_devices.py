"""The console's device problems page in Chromium (issue 18, device part): the problems
open now, in words, oldest first; a cleared one is gone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from web_site import WebSite, assert_accessible, screenshot, sign_in

from backend.config import BackendConfig
from backend.demo import DEMO_TERMINAL_NAME
from backend.demo_web import DEMO_STAFF
from backend.models import Terminal
from backend.notify import devices

pytestmark = [pytest.mark.peer, pytest.mark.browser]
ADMIN = DEMO_STAFF[1]


def _report(site: WebSite, kind: str, payload: dict[str, Any]) -> None:
    """What POST /events does with a kiosk's report, on a site with notifications on."""
    config = BackendConfig.model_validate({
        "database": {"url": str(site.db.engine.url)},
        "notifications": {"enabled": True, "from_address": "print@example.org",
                          "smtp": {"host": "127.0.0.1"}}})
    with site.db.write() as session:
        terminal_id = session.scalar(select(Terminal.id).where(
            Terminal.name == DEMO_TERMINAL_NAME))
        assert terminal_id is not None
        devices.on_event(session, config, terminal_id, kind, payload)


def test_the_open_device_problems_are_listed_in_words(page: Any, site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password, "/login?next=/admin/devices")
    expect(page.get_by_text("No device problem open.")).to_be_visible()
    _report(site, "alert", {"active": [{"code": "jammed", "description": "Jam in tray 2"},
                                       {"code": "doorOpen"}]})
    _report(site, "supplies", {"supplies": [{"name": "Cyan Toner", "level_percent": 0}]})
    page.reload()
    rows = page.locator("#device-problems tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#device-problems")).to_contain_text("Paper jam")
    expect(page.locator("#device-problems")).to_contain_text("A door or cover is open")
    expect(rows.filter(has_text="Supply empty")).to_contain_text("Cyan Toner: 0 % left")
    expect(rows.filter(has_text="Paper jam")).to_contain_text("Jam in tray 2")
    expect(page.locator("#device-problems")).not_to_contain_text("jammed")
    assert_accessible(page)
    screenshot(page, "admin-devices")
    _report(site, "alert", {"active": [{"code": "jammed"}]})  # the door was closed
    page.reload()
    expect(rows).to_have_count(2)
    expect(page.locator("#device-problems")).not_to_contain_text("A door or cover is open")
    page.goto(site.url + "/admin")
    page.get_by_role("link", name="Device problems").click()
    expect(page).to_have_url(site.url + "/admin/devices")
