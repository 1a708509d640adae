"""The administration of people in Chromium, as an administrator and an auditor: edit a
user, add and remove a card, an adjustment with (and without) a reason, the CSV import
of users and billing codes with its dry run line by line, the billing-code tree, the
audit log filtered by actor and action, and an auditor who reads without forms."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from web_site import WebSite, assert_accessible, screenshot, sign_in

from backend.demo_web import DEMO_STAFF
from backend.ledger import balance
from backend.models import AuditEntry, Card, LedgerTransaction, User
from backend.security import card_hash
from backend_fixtures import SECRET

pytestmark = [pytest.mark.peer, pytest.mark.browser]
CLERK, ADMIN, AUDITOR = DEMO_STAFF


def _user(site: WebSite, username: str) -> User:
    with site.db.read() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        session.expunge(user)
        return user


def test_an_administrator_edits_a_user_and_adds_then_removes_a_card(page: Any,
                                                                    site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password)
    page.goto(site.url + "/admin/users")
    page.get_by_label("Search").fill("bob")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("cell", name="bob", exact=True)).to_be_visible()
    screenshot(page, "admin-users")
    assert_accessible(page)
    page.get_by_role("link", name="bob", exact=True).click()
    expect(page).to_have_url(site.url + "/admin/users/bob")
    page.get_by_label("Display name").fill("<script>alert(1)</script> Bob")
    page.get_by_label("E-mail").fill("bob@example.org")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_role("status")).to_have_text("The profile is saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("<script>alert(1)</script> Bob")
    assert page.locator("main script").count() == 0
    page.get_by_label("Card number").fill(" 04 ab cd ")
    page.get_by_label("Label", exact=True).fill("spare badge")
    page.get_by_role("button", name="Add the card").click()
    expect(page.get_by_role("status")).to_have_text("The card is added.")
    expect(page.get_by_role("cell", name="spare badge", exact=True)).to_be_visible()
    assert "04ABCD" not in page.content() and "04 ab cd" not in page.content()
    screenshot(page, "admin-users-user")
    assert_accessible(page)
    bob = _user(site, "bob")
    with site.db.read() as session:
        card = session.scalars(select(Card).where(
            Card.card_hash == card_hash(SECRET, "04ABCD"))).one()
        assert card.user_id == bob.id and card.label == "spare badge"
    assert bob.email == "bob@example.org"
    page.get_by_label("Card number").fill("1001")  # alice's demo card
    page.get_by_role("button", name="Add the card").click()
    expect(page.get_by_role("alert").last).to_have_text("This card belongs to another user.")
    page.get_by_role("button", name="Remove the card spare badge").click()
    expect(page.get_by_role("status")).to_have_text("The card is removed.")
    with site.db.read() as session:
        assert session.scalar(select(Card).where(Card.id == card.id)) is None
        rows = session.scalars(select(AuditEntry).where(
            AuditEntry.subject == "bob", AuditEntry.actor == "staff:admin")
            .order_by(AuditEntry.id)).all()
    assert [(row.action, row.actor, row.origin) for row in rows] == [
        ("user.update", "staff:admin", "web:127.0.0.1"),
        ("user.card_add", "staff:admin", "web:127.0.0.1"),
        ("user.card_remove", "staff:admin", "web:127.0.0.1")]
    assert "04ABCD" not in str(rows[1].details)


def test_an_adjustment_needs_a_reason_and_posts_once(page: Any, site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password)
    page.goto(site.url + "/admin/users/carol")
    before = _balance(site, "carol")
    page.get_by_label("Amount (negative to take away)").fill("2.50")
    page.get_by_role("button", name="Post the adjustment").click()
    expect(page.locator("#reason-error")).to_have_text("Say why: an adjustment needs a reason.")
    expect(page.get_by_label("Amount (negative to take away)")).to_have_value("2.50")
    assert _balance(site, "carol") == before
    page.get_by_label("Reason").fill("printer ate the page")
    form = {name: page.locator(f"form[action$='/adjust'] input[name={name}]")
            .get_attribute("value") or "" for name in ("operation", "csrf_token")}
    page.get_by_role("button", name="Post the adjustment").click()
    expect(page.get_by_role("status")).to_contain_text("printer ate the page")
    screenshot(page, "admin-users-adjusted")
    # the same form again (a double click, a replayed request): the same answer, no post
    again = page.request.post(site.url + "/admin/users/carol/adjust", form={
        **form, "account": "user_personal", "amount": "2.50", "reason": "printer ate the page"},
        max_redirects=0)
    assert again.status == 303 and form["operation"] in again.headers["location"]
    assert _balance(site, "carol") - before == Decimal("2.50")
    with site.db.read() as session:
        posted = session.scalars(select(LedgerTransaction).where(
            LedgerTransaction.kind == "adjustment")).all()
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "ledger.adjust")).all()
    assert len(posted) == 1 and posted[0].reason == "printer ate the page"
    assert [(row.actor, row.origin) for row in audit] == [("staff:admin", "web:127.0.0.1")]


def _balance(site: WebSite, username: str) -> Any:
    with site.db.read() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return balance(session, user, site.config.ledger.currency).personal_credit
