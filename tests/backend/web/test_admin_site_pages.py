"""The console's site operations in Chromium (admin_site): refills run now, a terminal
enrolled with a key made on the page and then revoked, an old hold expired, a voucher
batch created with its card sheet, and an auditor who reads every page and changes
nothing."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from site_helpers import api, kiosk_headers
from sqlalchemy import select, update
from web_site import WebSite, assert_accessible, screenshot, sign_in

from backend.demo_web import DEMO_STAFF
from backend.models import AuditEntry, Group, Hold, QuotaRule, Terminal, VoucherBatch, utcnow

pytestmark = [pytest.mark.peer, pytest.mark.browser]
ADMIN, AUDITOR = DEMO_STAFF[1], DEMO_STAFF[2]
PAGES = ("/admin/prices", "/admin/quotas", "/admin/terminals", "/admin/holds",
         "/admin/vouchers", "/admin/top-ups")


def _audited(site: WebSite, action: str) -> list[AuditEntry]:
    with site.db.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_refills_run_now_once_then_nothing_is_due(page: Any, site: WebSite) -> None:
    with site.db.write() as session:
        staff = session.scalars(select(Group).where(Group.name == "staff")).one()
        session.add(QuotaRule(group_id=staff.id, period="monthly", amount=Decimal("10.00"),
                              carry_over_cap=Decimal("100.00")))
    sign_in(page, site, ADMIN.username, ADMIN.password, "/login?next=/admin/quotas")
    expect(page.locator("#due")).to_have_text("1")
    expect(page.locator("#rules")).to_contain_text("due now")
    assert_accessible(page)
    screenshot(page, "admin-quotas")
    page.get_by_role("button", name="Run the refills now").click()
    expect(page.get_by_role("status")).to_have_text("1 user refilled.")
    expect(page.locator("#runs")).to_contain_text("group")
    expect(page.locator("#due")).to_have_text("0")
    page.get_by_role("button", name="Run the refills now").click()
    expect(page.get_by_role("status")).to_contain_text("Nothing due")
    screenshot(page, "admin-quotas-ran")
    runs = _audited(site, "refill.run")
    assert [(r.details["rules_due"], r.details["users_refilled"]) for r in runs] == [(1, 1), (0, 0)]
    assert {(r.actor, r.origin) for r in runs} == {("staff:admin", "web:127.0.0.1")}


def test_a_terminal_enrols_with_a_key_from_the_page_and_is_revoked(page: Any,
                                                                   site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password, "/login?next=/admin/terminals")
    page.get_by_label("Valid for (days)").fill("3")
    page.get_by_role("button", name="Create an enrolment key").click()
    key = page.locator("#new-key").inner_text().strip()
    assert len(key) >= 20
    screenshot(page, "admin-terminals-key")
    page.goto(site.url + "/admin/terminals")  # shown once: not on the next visit
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.locator("#keys")).to_contain_text("unused")
    assert key not in page.content()

    with api(site) as client:
        enrolled = client.post("/terminals/enrol", json={
            "enrolment_key": key, "name": "kiosk-library", "device": "library-mfp",
            "device_model": "BigMFP 9000"})
        assert enrolled.status_code == 201, enrolled.text
        token = enrolled.json()["token"]
        assert client.get("/terminals/me", headers={
            "Authorization": f"Bearer {token}"}).status_code == 200
        again = client.post("/terminals/enrol", json={"enrolment_key": key, "name": "x"})
        assert again.status_code == 409
        headers = kiosk_headers(site, "bob", token)
        hold = client.post("/holds", headers=headers, json={
            "idempotency_key": uuid.uuid4().hex, "username": "bob", "amount": "0.40"})
        assert hold.status_code == 201, hold.text

        page.reload()
        row = page.locator("#terminals tr", has_text="kiosk-library")
        expect(row).to_contain_text("connected")
        expect(row).to_contain_text("library-mfp (BigMFP 9000)")
        expect(page.locator("#keys")).to_contain_text("used")
        assert_accessible(page)
        screenshot(page, "admin-terminals")
        page.get_by_role("link", name="Revoke kiosk-library").click()
        expect(page.get_by_role("heading", name="Revoke terminal kiosk-library?")).to_be_visible()
        expect(page.locator(".warn").first).to_contain_text("1 open hold is voided")
        screenshot(page, "admin-terminals-confirm")
        page.get_by_role("button", name="Revoke this terminal").click()
        expect(page.locator("#terminals tr", has_text="kiosk-library")).to_contain_text(
            "revoked")
        refused = client.get("/terminals/me", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401 and refused.json()["code"] == "terminal_revoked"
    with site.db.read() as session:
        assert session.get_one(Hold, hold.json()["hold_id"]).status == "voided"
    (revocation,) = _audited(site, "terminal.revoke")
    assert (revocation.actor, revocation.origin) == ("staff:admin", "web:127.0.0.1")
    assert revocation.details["voided_holds"] == 1


def test_an_unused_key_is_revoked_and_then_enrols_nothing(page: Any, site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password, "/login?next=/admin/terminals")
    page.get_by_role("button", name="Create an enrolment key").click()
    key = page.locator("#new-key").inner_text().strip()
    page.locator("#keys").get_by_role("button", name=re.compile("Revoke key")).first.click()
    expect(page.locator("#keys")).to_contain_text("revoked")
    with api(site) as client:
        refused = client.post("/terminals/enrol", json={"enrolment_key": key, "name": "x"})
    assert refused.status_code == 403 and refused.json()["code"] == "enrolment_key_invalid"


def test_an_old_hold_is_expired_from_the_page(page: Any, site: WebSite) -> None:
    with api(site) as client:
        ids = []
        for username in ("alice", "bob"):
            answer = client.post("/holds", headers=kiosk_headers(site, username), json={
                "idempotency_key": uuid.uuid4().hex, "username": username,
                "amount": "0.75"})
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["hold_id"])
    with site.db.write() as session:
        session.execute(update(Hold).where(Hold.id == ids[0])
                        .values(created_at=utcnow() - timedelta(hours=30)))
    sign_in(page, site, ADMIN.username, ADMIN.password, "/login?next=/admin/holds")
    rows = page.locator("#holds tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("alice")  # oldest first
    expect(rows.first).to_contain_text("1 d 6 h")
    assert_accessible(page)
    screenshot(page, "admin-holds")
    page.get_by_label("Expire every open hold older than (hours)").fill("24")
    page.get_by_role("button", name="Expire", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("1 hold expired.")
    expect(rows).to_have_count(1)
    page.get_by_label(f"Expire hold {ids[1]}").check()
    page.get_by_role("button", name="Expire the ticked holds").click()
    expect(page.get_by_role("status")).to_have_text("1 hold expired.")
    expect(page.get_by_text("No open hold.")).to_be_visible()
    screenshot(page, "admin-holds-expired")
    with site.db.read() as session:
        assert {session.get_one(Hold, i).status for i in ids} == {"voided"}
    expired = _audited(site, "hold.expire")
    assert sorted(e.subject for e in expired) == sorted(ids)
    assert {(e.actor, e.origin) for e in expired} == {("staff:admin", "web:127.0.0.1")}


def test_a_voucher_batch_is_created_and_its_card_sheet_made_once(page: Any,
                                                                site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password, "/login?next=/admin/vouchers")
    page.get_by_label("Value").fill("abc")
    page.get_by_label("Count").fill("12")
    page.get_by_label("Expires").fill("2099-06-30")
    page.get_by_role("button", name="Create the batch").click()
    expect(page.get_by_role("alert")).to_have_text("Value: give an amount such as 5.00.")
    expect(page.get_by_label("Count")).to_have_value("12")
    page.get_by_label("Value").fill("5.00")
    page.get_by_label("Prefix").fill("LIB")
    page.get_by_role("button", name="Create the batch").click()
    expect(page.locator("#created-title")).to_contain_text("12 vouchers")
    expect(page.locator("#batches")).to_contain_text("LIB-")
    assert_accessible(page)
    screenshot(page, "admin-vouchers")
    with page.expect_popup() as popup:
        page.get_by_role("button", name="Card sheet (PDF)").click()
    popup.value.close()
    with site.db.read() as session:
        batch = session.scalars(select(VoucherBatch).where(
            VoucherBatch.created_by == "staff:admin")).one()
        assert (batch.count, batch.value, batch.export_blob) == (12, Decimal("5.00"), None)
    (created,) = [e for e in _audited(site, "voucher.create") if e.actor == "staff:admin"]
    (exported,) = _audited(site, "voucher.export")
    assert created.origin == exported.origin == "web:127.0.0.1"
    page.goto(site.url + "/admin/vouchers")
    form = page.locator(f"form[action='/admin/vouchers/{batch.public_id}/revoke']")
    form.get_by_label("Serials (empty: all)").fill("1-3")
    form.get_by_label("Reason").fill("misprinted")
    form.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_have_text("3 vouchers revoked.")
    screenshot(page, "admin-vouchers-revoked")
    page.goto(site.url + "/admin/top-ups")
    assert_accessible(page)
    screenshot(page, "admin-vouchers-top-ups")


def test_an_auditor_reads_the_site_pages_without_forms_and_cannot_post(
        page: Any, site: WebSite) -> None:
    sign_in(page, site, AUDITOR.username, AUDITOR.password, "/login?next=/admin")
    for path in PAGES:
        answer = page.goto(site.url + path)
        assert answer is not None and answer.status == 200, path
        assert page.locator("form[method=post]:not([action$=logout])").count() == 0, path
    page.goto(site.url + "/admin")
    expect(page.get_by_role("link", name="Price lists")).to_be_visible()
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    page.goto(site.url + "/admin/holds")
    csrf = page.locator("body").get_attribute("hx-headers") or ""
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', csrf)
    assert token is not None
    with httpx.Client(base_url=site.url, cookies=cookies) as client:
        for path in ("/admin/prices/upload", "/admin/quotas/run", "/admin/terminals/keys",
                     "/admin/holds/expire", "/admin/vouchers"):
            answer = client.post(path, headers={"X-CSRF-Token": token.group(1)},
                                 data={"days": "3", "older_than_h": "1"})
            assert answer.status_code == 403, path
    with site.db.read() as session:
        assert session.scalars(select(Terminal).where(Terminal.name == "x")).first() is None
    assert not _audited(site, "refill.run")
