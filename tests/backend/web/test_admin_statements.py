"""The console's statements page in Chromium (issue 19): the demo's draft for ACME Corp
listed and opened, issued, sent for payment (demo gateway) and the request cancelled,
its PDF downloaded and read back; a bad plan file refused key by key; the current
period's drafts generated; an auditor reads and cannot change; French; CSRF."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from site_helpers import browser_page
from sqlalchemy import select
from web_site import WebSite, assert_accessible, screenshot, serving, sign_in

from backend.db import Database
from backend.models import AuditEntry, Client, PaymentRequest, Statement

pytestmark = [pytest.mark.peer, pytest.mark.browser]
PAYMENTS = {"payments": {"gateway": "demo", "public_base_url": "http://kiosk.test:8470",
                         "demo": {"enabled": True}}}


@pytest.fixture
def paying_site(db: Database) -> Iterator[WebSite]:
    with serving(db, PAYMENTS) as served:
        yield served


def demo_number(site: WebSite) -> str:
    with site.db.read() as session:
        client_id = session.scalar(select(Client.id).where(Client.code == "ACME"))
        number = session.scalar(select(Statement.number).where(
            Statement.client_id == client_id))
    assert number is not None
    return number


def test_an_administrator_issues_sends_and_downloads_a_statement(
        browser: Any, paying_site: WebSite, tmp_path: Path) -> None:
    site = paying_site
    number = demo_number(site)
    with browser_page(browser) as page:
        sign_in(page, site, "admin", "admin-demo-pass", "/login?next=/admin")
        page.get_by_role("link", name="Statements").first.click()
        expect(page).to_have_url(site.url + "/admin/statements")
        expect(page.locator("#statements")).to_contain_text("ACME Corp")
        assert_accessible(page)
        page.get_by_role("link", name=number).click()
        expect(page.locator("#statement-status")).to_have_text("draft")
        expect(page.locator("#statement-lines")).to_contain_text("Monthly subscription")
        expect(page.locator("#statement-total")).to_have_text("€25.00")
        page.get_by_role("button", name="Issue").click()
        expect(page.locator("#statement-done")).to_have_text("Issued: its lines are frozen.")
        expect(page.locator("#statement-status")).to_have_text("issued")
        page.get_by_role("button", name="Send payment request").click()
        expect(page.locator("#statement-done")).to_have_text("Payment request sent.")
        expect(page.locator("#payment-requests")).to_contain_text("accounts@acme.example")
        page.get_by_role("button", name="Send payment request").click()  # a second one
        expect(page.locator("#statement-error")).to_contain_text("already has an open")
        assert_accessible(page)
        screenshot(page, "admin-statement")
        with page.expect_download() as download:
            page.locator("#statement-pdf").click()
        pdf = tmp_path / "statement.pdf"
        download.value.save_as(pdf)
        text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                              text=True).stdout
        assert f"Statement {number}" in text and "€25.00" in text and "issued" in text
        page.get_by_role("button", name="Cancel the payment request").click()
        expect(page.locator("#statement-done")).to_contain_text("no more reminders")
        page.goto(site.url + "/admin/statements")
        bad = tmp_path / "bad-plan.toml"
        bad.write_text('[plan]\nname = "x"\ncurrency = "EUR"\neffective_from = 2020-01-01\n'
                       'type = "tiered"\n\n[tiered]\n[[tiered.mono]]\nfrom = 5\n'
                       'price = "1"\n', encoding="utf-8")
        page.locator("#plan-file").set_input_files(str(bad))
        page.get_by_role("button", name="Upload").click()
        problems = page.locator("table.problems")
        expect(problems).to_contain_text("the first tier must start at page 1")
        expect(problems).to_contain_text("tiered.colour")
        page.get_by_label("A day of the period").fill("the 3rd")
        page.get_by_role("button", name="Generate").click()
        expect(page.locator("#statements-error")).to_contain_text("YYYY-MM-DD")
        page.get_by_label("A day of the period").fill(
            page.evaluate("new Date().toISOString().slice(0, 10)"))
        page.get_by_role("button", name="Generate").click()
        expect(page.locator("#generate-outcomes")).to_contain_text(
            re.compile(r"ACME: draft ACME-\d{8} 25\.00 EUR"))
    with site.db.read() as session:
        entries = [(e.action, e.actor) for e in session.scalars(select(AuditEntry).where(
            AuditEntry.subject == f"statement:{number}").order_by(AuditEntry.id))]
        requests = list(session.scalars(select(PaymentRequest.status)))
    assert ("statement.issued", "staff:admin") in entries
    assert ("statement.payment_requested", "staff:admin") in entries
    assert ("statement.payment_request_cancelled", "staff:admin") in entries
    assert requests == ["cancelled"]


def test_an_auditor_reads_in_french_and_cannot_change(browser: Any, site: WebSite) -> None:
    number = demo_number(site)
    with browser_page(browser) as page:
        sign_in(page, site, "audrey", "audit-demo-pass",
                f"/login?next=/admin/statements/{number}")
        page.get_by_role("link", name="Français").click()
        expect(page.locator("h1")).to_have_text(f"Relevé {number}")
        expect(page.locator("#statement-lines")).to_contain_text("Abonnement mensuel")
        expect(page.locator("#statement-total")).to_contain_text("25,00")
        expect(page.get_by_role("button", name="Émettre")).to_have_count(0)
        assert_accessible(page)
        forged = page.request.post(f"{site.url}/admin/statements/{number}/issue")
        assert forged.status == 403
        page.goto(site.url + "/admin/statements")
        expect(page.get_by_role("button", name="Générer")).to_have_count(0)
    with site.db.read() as session:
        assert session.scalar(select(Statement.status).where(
            Statement.number == number)) == "draft"


def test_a_form_without_its_csrf_token_is_refused(browser: Any, site: WebSite) -> None:
    number = demo_number(site)
    with browser_page(browser) as page:
        sign_in(page, site, "admin", "admin-demo-pass", "/login?next=/admin/statements")
        refused = page.request.post(f"{site.url}/admin/statements/{number}/issue",
                                    form={"csrf_token": "forged"})
        assert refused.status == 403
    with site.db.read() as session:
        assert session.scalar(select(Statement.status).where(
            Statement.number == number)) == "draft"
