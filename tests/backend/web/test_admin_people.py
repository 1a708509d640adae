"""The administration of people in Chromium, as an administrator and an auditor: edit a
user, add and remove a card, an adjustment with (and without) a reason, the CSV import
of users and billing codes with its dry run line by line, the billing-code tree, the
audit log filtered by actor and action, and an auditor who reads without forms."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from backend_fixtures import SECRET
from playwright.sync_api import expect
from sqlalchemy import select
from web_site import WebSite, assert_accessible, screenshot, sign_in

from backend.demo_web import DEMO_STAFF
from backend.ledger import balance
from backend.models import AuditEntry, Card, LedgerTransaction, User, utcnow
from backend.security import card_hash

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


def _upload(page: Any, name: str, content: str) -> None:
    page.get_by_label("CSV file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content.encode()})
    page.get_by_role("button", name="Check the file (dry run)").click()


def test_a_bad_user_csv_shows_its_line_and_column_then_a_good_one_is_applied(
        page: Any, site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password)
    page.goto(site.url + "/admin/users/import")
    assert_accessible(page)
    header = "username,display_name,email,language,groups\n"
    _upload(page, "bad.csv", header + "dora,Dora Explorer,dora@example.org,fr,staff\n"
                             "erin,Erin,erin@example.org,de,\n")
    row = page.locator("tr", has=page.get_by_role("cell", name="erin", exact=True))
    expect(row).to_contain_text("3")
    expect(row.get_by_role("cell", name="language", exact=True)).to_be_visible()
    expect(row).to_contain_text("'de' is not one of en, fr")
    expect(page.locator("tr", has=page.get_by_role("cell", name="dora", exact=True))
           ).to_contain_text("create")
    expect(page.get_by_role("button", name="Apply this file")).to_have_count(0)
    screenshot(page, "admin-users-import-bad")
    assert_accessible(page)
    with site.db.read() as session:
        assert session.scalar(select(User).where(User.username == "dora")) is None
    _upload(page, "good.csv", header + "dora,Dora Explorer,dora@example.org,fr,staff\n"
                              "bob,Bob B.,,en,\n")
    expect(page.locator("tr", has=page.get_by_role("cell", name="bob", exact=True))
           ).to_contain_text("update")
    with site.db.read() as session:
        assert session.scalar(select(User).where(User.username == "dora")) is None
    screenshot(page, "admin-users-import-dry-run")
    form = {name: page.locator(f"form[action$='/apply'] input[name={name}]")
            .get_attribute("value") or "" for name in ("digest", "csrf_token")}
    page.get_by_role("button", name="Apply this file").click()
    expect(page.get_by_role("status")).to_have_text("Imported: 1 created, 1 updated.")
    dora = _user(site, "dora")
    assert (dora.display_name, dora.language) == ("Dora Explorer", "fr")
    assert _user(site, "bob").display_name == "Bob B."
    with site.db.read() as session:
        row_ = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "users.import")).one()
    assert (row_.actor, row_.origin) == ("staff:admin", "web:127.0.0.1")
    # the upload was forgotten once applied: a replayed "apply" writes nothing more
    again = page.request.post(site.url + "/admin/users/import/apply", form=form)
    assert again.status == 409 and "no longer kept" in again.text()


def test_the_billing_code_tree_and_a_bad_csv_with_its_line(page: Any, site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password)
    page.goto(site.url + "/admin/billing-codes")
    web = page.locator("tr", has=page.get_by_role("rowheader", name="ACME-WEB"))
    expect(web).to_contain_text("Website redesign")
    expect(web).to_contain_text("the code's client")  # inherited from ACME
    expect(web).to_contain_text("user:alice, user:bob")
    expect(page.locator("tr", has=page.get_by_role("rowheader", name="ACME", exact=True))
           ).to_contain_text("group:staff")
    expect(page.locator("tr", has=page.get_by_role("rowheader", name="GLOBEX-AUDIT"))
           ).to_contain_text("the user")
    screenshot(page, "admin-billing-codes")
    assert_accessible(page)
    page.get_by_role("link", name="Import billing codes from a CSV file").click()
    _upload(page, "codes.csv", "code,name,parent,active,assigned_to,payer\n"
                               "INITECH,Initech,,true,group:staff,code\n"
                               "INITECH-TPS,TPS reports,NOPE,true,,\n")
    row = page.locator("tr", has=page.get_by_role("cell", name="INITECH-TPS"))
    expect(row).to_contain_text("3")
    expect(row.get_by_role("cell", name="parent", exact=True)).to_be_visible()
    expect(row).to_contain_text("no billing code 'NOPE'")
    screenshot(page, "admin-billing-codes-import-bad")
    _upload(page, "codes.csv", "code,name,parent,active,assigned_to,payer\n"
                               "INITECH,Initech,,true,group:staff,code\n"
                               "INITECH-TPS,TPS reports,INITECH,true,user:carol,\n")
    page.get_by_role("button", name="Apply this file").click()
    expect(page.get_by_role("status")).to_have_text("Imported: 2 created, 0 updated.")
    page.goto(site.url + "/admin/billing-codes")
    expect(page.locator("tr", has=page.get_by_role("rowheader", name="INITECH-TPS"))
           ).to_contain_text("user:carol")


def test_groups_are_created_renamed_and_deleted_only_when_unused(page: Any,
                                                                 site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password)
    page.goto(site.url + "/admin/groups")
    page.get_by_label("Name", exact=True).fill("library")
    page.get_by_role("button", name="Create the group").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.get_by_label("New name for library").fill("reading room")
    page.locator("form[action$='/rename']", has=page.get_by_label("New name for library")
                 ).get_by_role("button", name="Rename").click()
    expect(page.get_by_role("link", name="reading room")).to_be_visible()
    page.get_by_role("button", name="Delete staff").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Users still in this group: 1. Move them first.")
    screenshot(page, "admin-groups")
    assert_accessible(page)
    page.get_by_role("button", name="Delete reading room").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_role("link", name="reading room")).to_have_count(0)
    page.goto(site.url + "/admin/cost-centres")
    page.get_by_label("Code").fill("CC900")
    page.get_by_label("Name", exact=True).fill("Physics")
    page.get_by_role("button", name="Create the cost centre").click()
    expect(page.get_by_role("cell", name="CC900", exact=True)).to_be_visible()
    screenshot(page, "admin-cost-centres")
    assert_accessible(page)


def test_the_audit_log_filtered_by_actor_and_action_shows_the_changes(
        page: Any, site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password)
    page.goto(site.url + "/admin/groups")
    page.get_by_label("Name", exact=True).fill("night shift")
    page.get_by_role("button", name="Create the group").click()
    page.goto(site.url + "/admin/users/alice")
    page.get_by_role("button", name="Grant cashier").click()
    expect(page.get_by_role("status")).to_have_text("The roles are saved.")
    page.get_by_role("link", name="Audit log").first.click()
    expect(page).to_have_url(site.url + "/admin/audit")
    page.get_by_label("Actor").fill("staff:admin")
    page.get_by_label("Action").select_option("user.role_grant")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("alice")
    expect(rows.first).to_contain_text("web:127.0.0.1")
    expect(rows.first).to_contain_text('"role": "cashier"')
    screenshot(page, "admin-audit")
    assert_accessible(page)
    today = utcnow().date()  # the demo site's time zone is UTC
    page.get_by_label("From", exact=True).fill(today.isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit tbody tr")).to_contain_text(["alice"])
    page.get_by_label("From", exact=True).fill((today + timedelta(days=1)).isoformat())
    page.get_by_label("To", exact=True).fill("")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit tbody tr")).to_have_text(["No entry matches."])
    page.get_by_label("From", exact=True).fill("")
    page.get_by_label("Action").select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit tbody tr").first).to_contain_text("user.role_grant")
    expect(page.locator("table.audit tbody tr").nth(1)).to_contain_text("group.create")
    page.get_by_role("link", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Journal d'audit")
    screenshot(page, "admin-audit-fr")


def test_an_auditor_reads_every_page_without_forms_and_gets_403_on_a_post(
        page: Any, site: WebSite) -> None:
    sign_in(page, site, AUDITOR.username, AUDITOR.password, "/login?next=/admin")
    for path in ("/admin/users", "/admin/users/bob", "/admin/groups", "/admin/cost-centres",
                 "/admin/users/import", "/admin/billing-codes", "/admin/audit"):
        answer = page.goto(site.url + path)
        assert answer is not None and answer.status == 200, path
        assert page.locator("main form[method=post]").count() == 0, path
    screenshot(page, "admin-users-auditor")
    assert_accessible(page)
    page.goto(site.url + "/admin")
    expect(page.get_by_role("link", name="Billing codes")).to_be_visible()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")  # sign-out's
    assert token
    refused = page.request.post(site.url + "/admin/users/bob/adjust", form={
        "csrf_token": token, "operation": "0" * 32, "account": "user_personal",
        "amount": "5.00", "reason": "auditor tries"}, max_redirects=0)
    assert refused.status == 403
    refused = page.request.post(site.url + "/admin/groups", form={
        "csrf_token": token, "name": "sneaky"}, max_redirects=0)
    assert refused.status == 403
    with site.db.read() as session:
        assert session.scalars(select(LedgerTransaction).where(
            LedgerTransaction.kind == "adjustment")).all() == []

