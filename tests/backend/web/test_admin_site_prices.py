"""/admin/prices in Chromium: a bad upload shows file, key and value and stores nothing; a
good one applies from the start of the current accounting period (the kiosk's estimate
afterwards uses it, tiers counting the pages printed earlier in the period)."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from site_helpers import api, browser_page, kiosk_headers, priced_site
from sqlalchemy import func, select
from web_site import assert_accessible, screenshot, sign_in

from backend.db import Database
from backend.demo_web import DEMO_STAFF
from backend.models import AuditEntry, PriceListUpload
from billing import AccountingPeriods

pytestmark = [pytest.mark.peer, pytest.mark.browser]
ADMIN = DEMO_STAFF[1]

BAD = """[price_list]
name = "Broken"
currency = "EUR"
scope = "default"

[print]
mono = { A4 = 0.05 }
"""
NEW_DEFAULT = """[price_list]
name = "New default"
currency = "EUR"
scope = "default"

[print]
mono = { A4 = "0.30" }
colour = { A4 = "0.60" }

[volume]
functions = ["print"]
[[volume.tiers.mono]]
from = 1
price = "0.30"
[[volume.tiers.mono]]
from = 6
price = "0.02"
"""


def _estimate(client: Any, headers: dict[str, str], mono: int) -> Decimal:
    answer = client.post("/estimate", headers=headers, json={
        "username": "alice", "paper": {"function": "print", "sides": [
            {"colour": "mono", "size": "A4", "count": mono}]}})
    assert answer.status_code == 200, answer.text
    return Decimal(answer.json()["total"])


def _print_pages(client: Any, headers: dict[str, str], pages: int) -> None:
    """A job released and captured at the kiosk: pages that count in the period."""
    hold = client.post("/holds", headers=headers, json={
        "idempotency_key": uuid.uuid4().hex, "username": "alice", "amount": "1.00"})
    assert hold.status_code == 201, hold.text
    captured = client.post(f"/holds/{hold.json()['hold_id']}/capture", headers=headers,
                           json={"idempotency_key": uuid.uuid4().hex, "amount": "0.50",
                                 "pages": pages, "colour_pages": 0})
    assert captured.status_code == 200, captured.text


def test_a_bad_upload_shows_file_key_value_then_a_good_one_applies_from_the_period(
        browser: Any, db: Database, tmp_path: Path) -> None:
    with priced_site(db, tmp_path) as site, browser_page(browser) as page, api(site) as client:
        headers = kiosk_headers(site, "alice")
        _print_pages(client, headers, 5)  # earlier this period, at the old prices
        assert _estimate(client, headers, 1) == Decimal("0.10")

        sign_in(page, site, ADMIN.username, ADMIN.password, "/login?next=/admin/prices")
        expect(page.locator("#effective-name")).to_have_text("Old default")
        assert_accessible(page)
        screenshot(page, "admin-prices")

        bad = tmp_path / "broken.toml"
        bad.write_text(BAD, encoding="utf-8")
        page.get_by_label("TOML price list").set_input_files(str(bad))
        page.get_by_role("button", name="Upload").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("The price list was not stored")
        row = page.locator("table.problems tbody tr").first
        expect(row.locator("td").nth(0)).to_have_text("broken.toml")
        expect(row.locator("td").nth(1)).to_have_text("print.mono.A4")
        expect(row.locator("td").nth(2)).to_have_text("0.05")
        assert_accessible(page)
        screenshot(page, "admin-prices-error")
        with site.db.read() as session:
            assert session.scalar(select(func.count()).select_from(PriceListUpload)) == 0

        good = tmp_path / "campus.toml"
        good.write_text(NEW_DEFAULT, encoding="utf-8")
        page.get_by_label("TOML price list").set_input_files(str(good))
        page.get_by_role("button", name="Upload").click()
        expect(page.get_by_role("status")).to_contain_text("stored")
        expect(page.locator("#effective-name")).to_have_text("New default")
        screenshot(page, "admin-prices-uploaded")

        start = AccountingPeriods(site.config.pricing.period_start_day).start_of(date.today())
        listed = client.get("/price-list", headers=headers, params={"username": "alice"})
        assert listed.json()["name"] == "New default"
        assert listed.json()["effective_from"] == start.isoformat()
        # Five pages already this period: the next one is page 6, the second tier.
        assert _estimate(client, headers, 1) == Decimal("0.02")
        with site.db.read() as session:
            entry = session.scalars(select(AuditEntry).where(
                AuditEntry.action == "price_list.upload")).one()
        assert (entry.actor, entry.origin) == ("staff:admin", "web:127.0.0.1")
        assert re.match(r"default", entry.details["scope"])
