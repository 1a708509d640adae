"""``/admin/notifications`` in Chromium (SQLite only: the browser flows are slow): a mail
refused with 550 is failed, the administrators are told by mail, the page shows it with
its error beside a mail still waiting, and "Retry" queues it again (audited); an auditor
reads the page with no button."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from smtp_peer import Mailbox
from sqlalchemy import select
from web_site import assert_accessible, chromium, screenshot, serving, sign_in

from backend.db import Database
from backend.demo_web import DEMO_STAFF
from backend.models import AuditEntry, Notification
from backend.notify import outbox
from backend.notify.worker import deliver_due

pytestmark = [pytest.mark.peer, pytest.mark.browser]
ADMIN, AUDITOR = DEMO_STAFF[1], DEMO_STAFF[2]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_refused_mail_is_shown_and_retried_by_the_administrator(
        db: Database, mailbox: Mailbox, browser: Any) -> None:
    settings = {"notifications": mailbox.settings(admin_addresses=["admin@kiosk.test"])}
    with serving(db, settings) as site:
        with db.write() as session:
            for address in ("nobody@kiosk.test", "busy@kiosk.test"):
                outbox.record(session, kind="test_message", to_address=address,
                              language="en", context={"site": "Page test",
                                                     "sent_at": "2026-12-02T09:30:00Z"})
        deliver_due(db, site.config)
        [told] = mailbox.to("admin@kiosk.test")
        assert "nobody@kiosk.test" in told["Subject"]
        with db.read() as session:
            failed_id = session.scalar(select(Notification.id).where(
                Notification.to_address == "nobody@kiosk.test"))

        context = browser.new_context(viewport={"width": 1280, "height": 860},
                                      locale="en-GB")
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in(page, site, ADMIN.username, ADMIN.password, "/login?next=/admin")
        page.get_by_role("link", name="Notifications").click()
        expect(page.locator("#count-failed")).to_have_text("1")
        expect(page.locator("#count-pending")).to_have_text("1")
        # the administrators told: the demo administrator and admin_addresses
        expect(page.locator("#count-sent")).to_have_text("2")
        failed_row = page.locator("#failed tbody tr")
        expect(failed_row).to_have_count(1)
        expect(failed_row).to_contain_text("nobody@kiosk.test")
        expect(failed_row).to_contain_text("Test message")  # the kind in words
        expect(failed_row).to_contain_text("550 5.1.1 no such user here")
        expect(page.locator("#pending tbody tr")).to_contain_text("451 4.3.0")
        # the administrators' notices were sent: "did the helpdesk get it?"
        expect(page.locator("#sent tbody tr")).to_have_count(2)
        page.get_by_label("Recipient").fill("ADMIN@kiosk.test")
        page.get_by_role("button", name="Find").click()
        expect(page.locator("#sent tbody tr")).to_have_count(1)
        expect(page.locator("#sent tbody tr")).to_contain_text("Delivery failed")
        page.get_by_label("Recipient").fill("bob@kiosk.test")
        page.get_by_role("button", name="Find").click()
        expect(page.get_by_text("No mail sent to bob@kiosk.test.")).to_be_visible()
        page.get_by_role("link", name="All").click()
        assert_accessible(page)
        screenshot(page, "admin-notifications")
        page.get_by_role("button", name=f"Retry mail {failed_id}").click()
        expect(page.get_by_role("status")).to_have_text(f"Mail {failed_id} queued again.")
        expect(page.locator("#count-failed")).to_have_text("0")
        expect(page.locator("#count-pending")).to_have_text("2")
        screenshot(page, "admin-notifications-retried")
        context.close()

        with db.read() as session:
            [entry] = session.scalars(select(AuditEntry).where(
                AuditEntry.action == "notification.retry")).all()
        assert (entry.actor, entry.origin, entry.subject) == (
            "staff:admin", "web:127.0.0.1", str(failed_id))
        assert entry.details is not None and "550" in entry.details["last_error"]

        deliver_due(db, site.config)  # refused again: failed again, told again
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        sign_in(page, site, AUDITOR.username, AUDITOR.password,
                "/login?next=/admin/notifications")
        expect(page.locator("#failed tbody tr")).to_contain_text("nobody@kiosk.test")
        expect(page.get_by_role("button", name=re.compile("Retry"))).to_have_count(0)
        context.close()
    assert len(mailbox.to("admin@kiosk.test")) == 2
