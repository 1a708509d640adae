"""The console's fleet page in Chromium (issue 19): the demo fleet's clients, sites,
devices with their monthly pages, unattributed pages and supply forecasts; an
administrator creates a client and a site and places a device (refused with the rule's
words on a bad billing day or a duplicate code); an auditor reads, without a form."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from web_site import WebSite, assert_accessible, screenshot, sign_in

from backend.demo_fleet import DEMO_DEVICE
from backend.demo_web import DEMO_STAFF
from backend.models import AuditEntry, Client, Device, Site

pytestmark = [pytest.mark.peer, pytest.mark.browser]
ADMIN, AUDITOR = DEMO_STAFF[1], DEMO_STAFF[2]


def test_the_demo_fleet_is_shown_and_an_administrator_changes_it(page: Any,
                                                                  site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password, "/login?next=/admin/fleet")
    expect(page.locator("#fleet-clients")).to_contain_text("Demo University")
    kiosk_printer = page.locator("#fleet-devices tbody tr").filter(has_text=DEMO_DEVICE)
    expect(kiosk_printer).to_contain_text("HP Color LaserJet M555")
    expect(page.locator("#fleet-sites")).to_contain_text("University library")
    # The science printer's counters were reset 40 days ago: no page count goes negative.
    for cell in page.locator("#fleet-devices td.num").all_inner_texts():
        assert not cell.strip().startswith("-"), cell
    unattributed = page.locator("#fleet-unattributed tbody tr").filter(has_text=DEMO_DEVICE)
    expect(unattributed.first).to_contain_text("100 %")  # no job was released in the demo
    black = page.locator("#fleet-supplies tbody tr").filter(has_text=DEMO_DEVICE).filter(
        has_text="Black Toner")
    expect(black).to_contain_text(" days)")
    expect(page.locator("#fleet-supplies tbody tr").filter(has_text="Waste Toner Box").first
           ).to_contain_text("not falling")
    assert_accessible(page)
    screenshot(page, "admin-fleet")

    form = page.locator("#new-client")
    form.get_by_label("Code").fill("INITECH")
    form.get_by_label("Name").fill("Initech")
    form.get_by_label("Billing day (1 to 28)").fill("29")
    form.get_by_role("button", name="Create the client").click()
    expect(page.locator("#new-client [role=alert]")).to_have_text(
        "The billing day is a day of the month from 1 to 28, not 29.")
    form = page.locator("#new-client")
    form.get_by_label("Code").fill("INITECH")
    form.get_by_label("Name").fill("Initech")
    form.get_by_label("Billing day (1 to 28)").fill("5")
    form.get_by_role("button", name="Create the client").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    site_form = page.locator("#new-site")
    site_form.get_by_label("Client").select_option("INITECH")
    site_form.get_by_label("Code").fill("UNI-LIB")  # taken by the demo
    site_form.get_by_label("Name").fill("Head office")
    site_form.get_by_role("button", name="Create the site").click()
    expect(page.locator("#new-site [role=alert]")).to_have_text(
        "This code is already used: UNI-LIB.")
    site_form = page.locator("#new-site")
    site_form.get_by_label("Client").select_option("INITECH")
    site_form.get_by_label("Code").fill("INITECH-HQ")
    site_form.get_by_label("Name").fill("Head office")
    site_form.get_by_role("button", name="Create the site").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.get_by_label(f"Site of {DEMO_DEVICE}").select_option("INITECH-HQ")
    page.get_by_label(f"Serial number of {DEMO_DEVICE}").fill("JPBCS99999")
    page.locator("#fleet-devices tbody tr").filter(has_text=DEMO_DEVICE).get_by_role(
        "button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    with site.db.read() as session:
        device = session.scalars(select(Device).where(Device.code == DEMO_DEVICE)).one()
        placed = session.get(Site, device.site_id)
        client = session.scalars(select(Client).where(Client.code == "INITECH")).one()
        actions = list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("fleet.%")).order_by(AuditEntry.id)))
    assert placed is not None and placed.code == "INITECH-HQ" and device.serial == "JPBCS99999"
    assert client.billing_day == 5
    assert actions == ["fleet.client.create", "fleet.site.create", "fleet.device.place",
                       "fleet.device.edit"]


def test_an_auditor_reads_the_fleet_without_a_form(page: Any, site: WebSite) -> None:
    sign_in(page, site, AUDITOR.username, AUDITOR.password, "/login?next=/admin/fleet")
    expect(page.locator("#fleet-clients")).to_contain_text("Demo University")
    expect(page.locator("form[action^='/admin/fleet']")).to_have_count(0)
    answer = page.request.post(site.url + "/admin/fleet/clients",
                               form={"code": "X", "name": "X", "billing_day": "1"})
    assert answer.status in (403, 400)
