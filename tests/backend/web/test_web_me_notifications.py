"""Notification preferences in Chromium and through the terminal API, one user's story:
alice (French) sets her threshold through the kiosk's API, sees it on /me, types wrong
amounts there ("abc", "-3", "1,234" and a too precise "1.234") and reads what is wrong
with each, then saves "1,5" (a French decimal comma) and turns transaction alerts on; the
API answers what the page saved. (SQLite only, as every browser flow: see conftest.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from web_site import WebSite, assert_accessible, serving, sign_in

from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN
from backend.demo_web import demo_user_password
from backend.models import AuditEntry

pytestmark = [pytest.mark.peer, pytest.mark.browser]
NOTIFY = {"notifications": {"enabled": True, "from_address": "print@example.org",
                            "smtp": {"host": "127.0.0.1"},
                            "low_balance": {"threshold": "2.00"}}}


@pytest.fixture
def site(db: Database) -> Iterator[WebSite]:
    with serving(db, NOTIFY) as served:
        yield served


@contextmanager
def _api(site: WebSite) -> Iterator[httpx.Client]:
    """The kiosk's side: the terminal API with alice's session (her PIN at the kiosk)."""
    terminal = {"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"}
    with httpx.Client(base_url=site.url + "/api/v1", headers=terminal) as client:
        opened = client.post("/sessions", json={"username": "alice", "pin": "1234"})
        assert opened.status_code == 200, opened.text
        client.headers["X-Printkiosk-Session"] = opened.json()["session"]["token"]
        yield client


def test_preferences_through_the_api_and_on_me(page: Any, site: WebSite) -> None:
    with _api(site) as api:
        saved = api.put("/users/alice/notifications", json={
            "low_balance_enabled": True, "low_balance_threshold": "3.50",
            "transactions_enabled": False})
        assert saved.status_code == 200, saved.text
        sign_in(page, site, "alice", demo_user_password("alice"), "/me/login")
        section = page.locator("section", has=page.get_by_role(
            "heading", name="Notifications par e-mail"))
        threshold = section.get_by_role("textbox", name="Seuil")
        expect(threshold).to_have_value("3,50")
        low, alerts = (section.get_by_role("checkbox", name=re.compile(name))
                       for name in ("Me prévenir", "M’envoyer chaque"))
        expect(low).to_be_checked()
        expect(alerts).not_to_be_checked()
        expect(section).to_contain_text("Vide : le montant du site, 2,00\u00a0€.")
        for typed, said in (("abc", "Ce n’est pas un montant"),
                            ("-3", "ne peut pas être négatif"),
                            ("1,234", "Au plus 2 décimales"),
                            ("1.234", "Au plus 2 décimales")):
            threshold.fill(typed)
            section.get_by_role("button", name="Enregistrer les notifications").click()
            expect(page.locator("#threshold-error")).to_contain_text(said)
            expect(threshold).to_have_value(typed)  # kept for correcting
            expect(threshold).to_have_attribute("aria-invalid", "true")
        assert_accessible(page)
        threshold.fill("1,5")
        alerts.check()
        section.get_by_role("button", name="Enregistrer les notifications").click()
        expect(page.get_by_role("status")).to_have_text(
            "Vos choix de notifications sont enregistrés.")
        expect(threshold).to_have_value("1,50")
        read = api.get("/users/alice/notifications").json()
    assert read["low_balance"] == {"enabled": True, "threshold": "1.50",
                                   "own_threshold": True, "site_threshold": "2.00"}
    assert read["transactions"] == {"enabled": True}
    with site.db.read() as session:
        audit = list(session.scalars(select(AuditEntry).where(
            AuditEntry.action == "user.notifications").order_by(AuditEntry.id)))
    assert [(row.actor, (row.origin or "").split(":")[0]) for row in audit] == [
        ("user:alice", "terminal"), ("user:alice", "web")]
    assert audit[1].details == {"low_balance_threshold": {"from": "3.50", "to": "1.50"},
                                "transactions_enabled": {"from": False, "to": True}}
