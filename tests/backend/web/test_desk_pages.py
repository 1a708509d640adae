"""A day at the cash desk in Chromium, as the demo clerk: open the drawer, find a user by
typing and by a card swipe (the wedge types the number and Enter into the field), cash
in and cash out with the receipt PDF, refund a jammed job, sell vouchers, close the
drawer with a difference; a hostile display name shown as text; a double submit posted
once; the receipt on an ESC/POS printer (a file target, read back)."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from voucher_helpers import make_batch
from web_site import WebSite, assert_accessible, screenshot, serving, sign_in

from backend import ledger
from backend.db import Database
from backend.demo_web import DEMO_STAFF
from backend.models import DeskDrawer, DeskOperation, Terminal, User
from tests.drivers.receipt.escpos_bytes import printed_text

pytestmark = [pytest.mark.peer, pytest.mark.browser]
CLERK, ADMIN, _AUDITOR = DEMO_STAFF
EUR = "EUR"


def _clerk(page: Any, site: WebSite, float_: str = "20.00") -> None:
    """Sign in as the clerk and open the drawer with ``float_``."""
    sign_in(page, site, CLERK.username, CLERK.password)
    page.goto(site.url + "/cash-desk/drawer")
    page.get_by_label("Opening float").fill(float_)
    page.get_by_role("button", name="Open the drawer").click()
    expect(page.locator("#drawer-float")).to_have_text(f"€{float_}")


def _balance(db: Database, username: str) -> ledger.Balance:
    with db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return ledger.balance(session, user, EUR)


def _pdf_text(page: Any, site: WebSite, href: str, tmp_path: Path) -> str:
    answer = page.request.get(site.url + href)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    target = tmp_path / "receipt.pdf"
    target.write_bytes(answer.body())
    return subprocess.run(["pdftotext", str(target), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.both_databases
def test_find_a_user_by_typing_and_by_a_card_swipe(page: Any, site: WebSite) -> None:
    _clerk(page, site)
    page.goto(site.url + "/cash-desk")
    field = page.get_by_label("Name, username, e-mail or card")
    field.press_sequentially("dupo", delay=40)
    results = page.locator("#desk-results")
    expect(results.get_by_role("link", name="Bob Dupont")).to_be_visible()
    expect(results.get_by_role("link")).to_have_count(1)
    screenshot(page, "desk-search")
    assert_accessible(page)
    field.fill("")
    field.press_sequentially("1003", delay=10)  # the wedge types fast, then Enter
    field.press("Enter")
    expect(page).to_have_url(site.url + "/cash-desk/users/carol")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Carol Staff")
    page.goto(site.url + "/cash-desk")
    page.get_by_label("Name, username, e-mail or card").fill("777777")
    page.get_by_label("Name, username, e-mail or card").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("No user and no card matches")


def test_cash_in_then_cash_out_with_receipts_and_the_drawer(page: Any, site: WebSite,
                                                           tmp_path: Path) -> None:
    start = _balance(site.db, "bob")
    _clerk(page, site, "20.00")
    page.goto(site.url + "/cash-desk/users/bob")
    page.get_by_label("Amount", exact=True).first.fill("10.00")
    page.get_by_role("button", name="Credit the account").click()
    expect(page.get_by_role("status")).to_contain_text("receipt R-")
    expect(page.locator("#desk-personal")).to_have_text(f"€{start.personal_credit + 10:.2f}")
    href = page.get_by_role("link", name="Open the receipt (PDF)").get_attribute("href")
    assert "€10.00" in _pdf_text(page, site, href, tmp_path)
    screenshot(page, "desk-user")
    assert_accessible(page)
    page.locator("#out-amount").fill("4.00")
    page.get_by_label("Reason").first.fill("moving away")
    page.get_by_role("button", name="Pay out in cash").click()
    expect(page.get_by_role("status")).to_contain_text("receipt R-")
    expect(page.locator("#desk-personal")).to_have_text(f"€{start.personal_credit + 6:.2f}")
    href = page.get_by_role("link", name="Open the receipt (PDF)").get_attribute("href")
    text = _pdf_text(page, site, href, tmp_path)
    assert "€4.00" in text and "Cash out" in text and "moving away" in text
    page.locator("#out-amount").fill("1000.00")
    page.get_by_label("Reason").first.fill("too much")
    page.get_by_role("button", name="Pay out in cash").click()
    expect(page.get_by_role("alert")).to_contain_text("more than the personal credit")
    screenshot(page, "desk-user-error")
    page.goto(site.url + "/cash-desk/drawer")
    expect(page.locator("#drawer-in")).to_have_text("€10.00")
    expect(page.locator("#drawer-out")).to_have_text("€4.00")
    expect(page.locator("#drawer-expected")).to_have_text("€26.00")
    assert _balance(site.db, "bob").personal_credit == start.personal_credit + 6


def _charge_bob(db: Database, amount: str) -> int:
    with db.write() as session:
        bob = session.scalar(select(User).where(User.username == "bob"))
        kiosk = session.scalar(select(Terminal))
        assert bob is not None and kiosk is not None
        hold = ledger.authorise(session, bob, kiosk.id, EUR, Decimal(amount),
                                "thesis.pdf, 12 pages", "job-7")
        charge = ledger.capture(session, hold.id, kiosk.id, EUR, Decimal(amount),
                                "virtual_first")
        assert charge is not None
        return charge.id


def test_refund_a_jammed_job_in_part_and_never_more_than_remains(page: Any,
                                                                 site: WebSite) -> None:
    _charge_bob(site.db, "1.80")
    before = _balance(site.db, "bob")
    _clerk(page, site)
    page.goto(site.url + "/cash-desk/users/bob")
    page.get_by_label("Amount (blank: all that remains)").fill("0.60")
    page.locator("#refund-reason").fill("paper jam on page 5")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("receipt R-")
    row = page.locator("#desk-jobs").get_by_role("row", name=re.compile("thesis.pdf"))
    expect(row).to_contain_text("€0.60")
    page.get_by_label("Amount (blank: all that remains)").fill("1.21")
    page.locator("#refund-reason").fill("again")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("more than what remains")
    after = _balance(site.db, "bob")
    assert (after.virtual_credit + after.personal_credit) - (
        before.virtual_credit + before.personal_credit) == Decimal("0.60")


def test_sell_a_range_of_vouchers_for_cash(page: Any, site: WebSite, tmp_path: Path) -> None:
    public_id, _codes = make_batch(site.db, count=10, value="5.00", prefix="DESK")
    _clerk(page, site, "0.00")
    page.goto(site.url + "/cash-desk/vouchers")
    page.get_by_label("Batch").select_option(public_id)
    page.get_by_label("Serials (blank: every voucher in stock)").fill("2-4")
    page.get_by_role("button", name="Mark as sold").click()
    expect(page.get_by_role("status")).to_contain_text("receipt R-")
    expect(page.get_by_role("row", name=re.compile(public_id))).to_contain_text("7")
    href = page.get_by_role("link", name="Open the receipt (PDF)").get_attribute("href")
    assert "€15.00" in _pdf_text(page, site, href, tmp_path)
    screenshot(page, "desk-vouchers")
    assert_accessible(page)
    page.get_by_label("Serials (blank: every voucher in stock)").fill("3")
    page.get_by_role("button", name="Mark as sold").click()
    expect(page.get_by_role("alert")).to_contain_text("not in stock")
    page.goto(site.url + "/cash-desk/drawer")
    expect(page.locator("#drawer-vouchers")).to_have_text("€15.00")


def test_end_of_day_with_a_difference_seen_by_an_administrator(page: Any, site: WebSite,
                                                               browser: Any) -> None:
    _clerk(page, site, "50.00")
    page.goto(site.url + "/cash-desk/users/alice")
    page.get_by_label("Amount", exact=True).first.fill("12.00")
    page.get_by_label("Cheque").check()
    page.get_by_role("button", name="Credit the account").click()
    page.get_by_label("Amount", exact=True).first.fill("10.00")
    page.get_by_role("button", name="Credit the account").click()
    expect(page.get_by_role("status")).to_be_visible()
    page.goto(site.url + "/cash-desk/drawer")
    expect(page.locator("#drawer-expected")).to_have_text("€60.00")
    expect(page.locator("#drawer-cheques")).to_have_text("€12.00")
    screenshot(page, "desk-drawer-open")
    assert_accessible(page)
    page.get_by_label("Cash counted").fill("58.50")
    page.get_by_label("Note (optional)").fill("coin missing")
    page.get_by_role("button", name="Close the drawer").click()
    expect(page.get_by_role("status")).to_contain_text("difference -€1.50")
    screenshot(page, "desk-drawer-closed")
    assert_accessible(page)
    with site.db.read() as session:
        drawer = session.scalar(select(DeskDrawer))
        assert drawer is not None and drawer.difference == Decimal("-1.50")
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    try:
        admin = context.new_page()
        sign_in(admin, site, ADMIN.username, ADMIN.password)
        admin.goto(site.url + "/cash-desk/drawer")
        expect(admin.get_by_role("heading", name="Past drawers of every clerk")).to_be_visible()
        expect(admin.get_by_role("row", name=re.compile("clerk"))).to_contain_text("-€1.50")
    finally:
        context.close()


def test_a_script_display_name_is_shown_as_text(page: Any, site: WebSite) -> None:
    hostile = "<script>alert(1)</script>"
    with site.db.write() as session:
        session.add(User(username="mallory", display_name=hostile, email="m@example.org"))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _clerk(page, site)
    page.goto(site.url + "/cash-desk")
    page.get_by_label("Name, username, e-mail or card").press_sequentially("mall", delay=30)
    expect(page.locator("#desk-results").get_by_role("link", name=hostile)).to_be_visible()
    page.locator("#desk-results").get_by_role("link", name=hostile).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(hostile)
    assert page.locator("main script:not([src])").count() == 0
    assert dialogs == []


def test_a_double_submit_posts_once(page: Any, site: WebSite) -> None:
    _clerk(page, site)
    page.goto(site.url + "/cash-desk/users/bob")
    form = page.locator("form[action$='/cash-in']")
    operation = form.locator("input[name=operation]").input_value()
    csrf = form.locator("input[name=csrf_token]").input_value()
    page.get_by_label("Amount", exact=True).first.fill("3.00")
    page.get_by_role("button", name="Credit the account").dblclick()
    expect(page.get_by_role("status")).to_contain_text("receipt R-")
    first = page.url
    # the same form posted again (a replay, or a reload that re-sends): the same receipt
    again = page.request.post(site.url + "/cash-desk/users/bob/cash-in", form={
        "csrf_token": csrf, "operation": operation, "amount": "3.00", "method": "cash"},
        max_redirects=0)
    assert again.status == 303
    assert again.headers["location"] == first.removeprefix(site.url)
    with site.db.read() as session:
        assert session.scalar(select(func.count()).select_from(DeskOperation)) == 1


def test_the_receipt_is_printed_on_the_desk_printer(browser: Any, db: Database,
                                                    tmp_path: Path) -> None:
    printer = tmp_path / "lp0"
    with serving(db, {"web": {"cash_desk": {"receipt_printer": f"file:{printer}"}}}) as site:
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
        try:
            page = context.new_page()
            _clerk(page, site)
            page.goto(site.url + "/cash-desk/users/carol")
            page.get_by_label("Amount", exact=True).first.fill("25.50")
            page.get_by_role("button", name="Credit the account").click()
            expect(page.get_by_role("status")).to_contain_text("receipt R-")
        finally:
            context.close()
    raw = printer.read_bytes()
    lines = [line.strip() for line in printed_text(raw)]
    assert lines[0] == "Cash desk receipt"
    assert any(line.startswith("Amount") and line.endswith("25.50") for line in lines)
    assert any(line.endswith("Carol Staff (carol)") for line in lines)
    assert b"\x1dV" in raw  # the paper is cut
