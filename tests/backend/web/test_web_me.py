"""The user's own page (/me) in Chromium: alice's balance and history in her language
(French) and the switch to English saved on her account; bob redeeming a demo voucher
(a typo first, then the code, then the same code again); a top-up paid on the demo
gateway's page; a password change that signs the other browsers out; alice unable to
reach bob's data through any id in a URL; a display name ``<script>`` shown as text.
Screenshots me-*.png at a phone's size (390x844) and a desktop's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from topup_helpers import make_top_up, personal, user_id
from web_site import WebSite, assert_accessible, screenshot, serving, sign_in

from backend import ledger
from backend.db import Database
from backend.demo import DEMO_TERMINAL_NAME, demo_voucher_codes
from backend.demo_web import demo_user_password
from backend.models import AuditEntry, Terminal, TopUp, User, VoucherFailure

pytestmark = [pytest.mark.peer, pytest.mark.browser]
PAYMENTS = {"payments": {"gateway": "demo", "public_base_url": "http://kiosk.test:8470",
                         "demo": {"enabled": True}}}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def paying_site(db: Database) -> Iterator[WebSite]:
    """The site with the demo payment gateway switched on."""
    with serving(db, PAYMENTS) as served:
        yield served


def _on_phone(browser: Any, site: WebSite, username: str, name: str) -> None:
    """The signed-in /me of ``username`` at a phone's size: screenshot and axe-core."""
    context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True)
    try:
        phone = context.new_page()
        sign_in(phone, site, username, demo_user_password(username), "/me/login")
        expect(phone.locator("#available")).to_be_visible()
        screenshot(phone, name)
        assert_accessible(phone)
    finally:
        context.close()


def _print_a_job(db: Database, username: str, estimate: str, printed: str) -> None:
    """A print job of the user, held and then charged at the demo kiosk."""
    with db.write() as session:
        terminal = session.scalar(select(Terminal).where(Terminal.name == DEMO_TERMINAL_NAME))
        assert terminal is not None
        user = ledger.lock_user(session, user_id(db, username))
        hold = ledger.authorise(session, user, terminal.id, "EUR", Decimal(estimate),
                                "report.pdf, 3 pages", "job-1")
        ledger.capture(session, hold.id, terminal.id, "EUR", Decimal(printed),
                       "virtual_first")


def test_alice_reads_her_page_in_french_and_switches_to_english(
        page: Any, browser: Any, site: WebSite) -> None:
    _print_a_job(site.db, "alice", "0.60", "0.45")
    sign_in(page, site, "alice", demo_user_password("alice"), "/me/login")
    expect(page).to_have_url(site.url + "/me")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    # 10.00 quota + 5.00 deposit - 0.45 printed
    expect(page.locator("#available")).to_have_text(re.compile(r"^14,55\s€$"))
    expect(page.locator("#virtual")).to_have_text(re.compile(r"^9,55\s€$"))
    rows = page.locator("#transactions tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Impression")
    expect(rows.nth(0)).to_contain_text("-0,45")
    expect(page.locator("#transactions")).to_contain_text("Recharge du quota")
    expect(page.locator("#transactions")).to_contain_text("Dépôt")
    expect(page.locator("#jobs tbody tr")).to_have_count(1)
    expect(page.locator("#jobs")).to_contain_text("report.pdf, 3 pages")
    expect(page.locator("#jobs")).to_contain_text("Imprimé")
    screenshot(page, "me-home-fr")
    assert_accessible(page)
    _on_phone(browser, site, "alice", "me-home-fr-phone")

    page.get_by_label("English").check()
    page.get_by_role("button", name="Enregistrer la langue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    expect(page.get_by_role("status")).to_have_text("Your language is saved.")
    expect(page.locator("#available")).to_have_text("€14.55")
    with site.db.read() as session:
        alice = session.scalars(select(User).where(User.username == "alice")).one()
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "user.language")).one()
    assert alice.language == "en"
    assert (audit.actor, audit.subject, audit.origin, audit.details) == (
        "user:alice", "alice", "web:127.0.0.1", {"from": "fr", "to": "en"})
    screenshot(page, "me-home-en")


def test_bob_redeems_a_voucher_once_after_a_typo(page: Any, site: WebSite) -> None:
    code = demo_voucher_codes(site.db, 1)[0]
    typo = code[:-1] + ("A" if code[-1] != "A" else "B")
    before = personal(site.db, "bob")
    sign_in(page, site, "bob", demo_user_password("bob"), "/me/login")
    field = page.get_by_label("Voucher code")
    field.fill(typo)
    page.get_by_role("button", name="Redeem").click()
    expect(page.locator("#code-error")).to_contain_text("This code has a typo")
    expect(field).to_have_value(typo)
    screenshot(page, "me-voucher-typo")
    assert_accessible(page)
    with site.db.read() as session:  # a typo is never a guess
        assert session.scalars(select(VoucherFailure)).all() == []
    assert personal(site.db, "bob") == before

    page.get_by_label("Voucher code").fill(code)
    page.get_by_role("button", name="Redeem").click()
    expect(page.get_by_role("status")).to_have_text(
        "Voucher redeemed: €2.00 added to your balance.")
    assert personal(site.db, "bob") == before + Decimal("2.00")
    expect(page.locator("#transactions tbody tr").first).to_contain_text("Voucher")
    page.reload()  # Post/Redirect/Get: a reload posts nothing again
    assert personal(site.db, "bob") == before + Decimal("2.00")

    page.get_by_label("Voucher code").fill(code)
    page.get_by_role("button", name="Redeem").click()
    expect(page.locator("#code-error")).to_have_text("This voucher was already redeemed.")
    assert personal(site.db, "bob") == before + Decimal("2.00")
    with site.db.read() as session:
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "voucher.redeem")).one()
    assert (audit.actor, audit.origin) == ("user:bob", "web:127.0.0.1")


def test_bob_tops_up_on_the_demo_gateway_and_sees_it_paid(page: Any, browser: Any,
                                                          paying_site: WebSite) -> None:
    site = paying_site
    before = personal(site.db, "bob")
    sign_in(page, site, "bob", demo_user_password("bob"), "/me/login")
    expect(page.get_by_role("heading", name="Top up")).to_be_visible()
    screenshot(page, "me-topup-form")
    page.get_by_label("€5.00").check()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(re.compile(r"/pay/[A-Za-z0-9_-]+$"))
    expect(page.locator("#banner")).to_have_text("SIMULATED PAYMENT - NOT FOR PRODUCTION")
    pay_page = page.url

    page.goto(site.url + "/me")  # back before paying: pending
    expect(page.locator("#top-ups")).to_contain_text("Waiting for payment")
    page.goto(pay_page)
    page.locator("#pay").click()
    expect(page.get_by_text("This top-up is paid")).to_be_visible()
    page.goto(site.url + "/me")
    expect(page.locator("#top-ups li").first).to_contain_text("Paid")
    expect(page.locator("#personal")).to_have_text(f"€{before + Decimal('5.00')}")
    assert personal(site.db, "bob") == before + Decimal("5.00")
    screenshot(page, "me-topup-paid")
    assert_accessible(page)
    page.locator("#top-ups a").first.click()
    expect(page.locator("#state")).to_have_text("Paid")
    screenshot(page, "me-topup-status")
    assert_accessible(page)
    _on_phone(browser, site, "bob", "me-topup-phone")

    page.goto(site.url + "/me")
    page.get_by_label("Or another amount").fill("1000.00")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#topup-error")).to_contain_text("between €1.00 and €100.00")


def test_without_a_gateway_there_is_no_top_up(page: Any, site: WebSite) -> None:
    sign_in(page, site, "bob", demo_user_password("bob"), "/me/login")
    expect(page.get_by_role("heading", name="Redeem a voucher")).to_be_visible()
    expect(page.get_by_role("heading", name="Top up")).to_have_count(0)


def test_a_password_change_signs_the_other_browsers_out(page: Any, browser: Any,
                                                        site: WebSite) -> None:
    other = browser.new_context(viewport=PHONE, locale="en-GB")
    try:
        elsewhere = other.new_page()
        sign_in(elsewhere, site, "bob", demo_user_password("bob"), "/me/login")
        expect(elsewhere).to_have_url(site.url + "/me")
        sign_in(page, site, "bob", demo_user_password("bob"), "/me/login")
        page.get_by_label("Current password").fill("not-my-password")
        page.get_by_label("New password", exact=True).fill("a-new-password-1")
        page.get_by_label("New password again").fill("a-new-password-1")
        page.get_by_role("button", name="Change the password").click()
        expect(page.locator("#current-error")).to_have_text(
            "This is not your current password.")
        page.get_by_label("Current password").fill(demo_user_password("bob"))
        page.get_by_label("New password", exact=True).fill("a-new-password-1")
        page.get_by_label("New password again").fill("a-new-password-2")
        page.get_by_role("button", name="Change the password").click()
        expect(page.locator("#repeat-error")).to_have_text("The two new passwords differ.")
        screenshot(page, "me-password-error")
        assert_accessible(page)
        page.get_by_label("Current password").fill(demo_user_password("bob"))
        page.get_by_label("New password", exact=True).fill("a-new-password-1")
        page.get_by_label("New password again").fill("a-new-password-1")
        page.get_by_role("button", name="Change the password").click()
        expect(page.get_by_role("status")).to_have_text(
            "Your password is changed. Your other sessions are signed out.")
        page.reload()  # this browser keeps a (fresh) session
        expect(page.get_by_role("heading", level=1)).to_have_text("My account")
        elsewhere.goto(site.url + "/me")
        expect(elsewhere).to_have_url(re.compile(r"/me/login\?next=/me$"))
    finally:
        other.close()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, site, "bob", demo_user_password("bob"), "/me/login")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    sign_in(page, site, "bob", "a-new-password-1", "/me/login")
    expect(page).to_have_url(site.url + "/me")
    with site.db.read() as session:
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "user.password")).one()
    assert (audit.actor, audit.origin) == ("user:bob", "web:127.0.0.1")


def test_alice_cannot_reach_bobs_data_by_changing_an_id(page: Any, site: WebSite) -> None:
    bobs_top_up = make_top_up(site.db, "bob", "7.00")
    code = demo_voucher_codes(site.db, 1)[0]
    sign_in(page, site, "bob", demo_user_password("bob"), "/me/login")
    page.get_by_label("Voucher code").fill(code)
    page.get_by_role("button", name="Redeem").click()
    bobs_redemption = re.search(r"redeemed=(\d+)", page.url)
    assert bobs_redemption is not None
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, site, "alice", demo_user_password("alice"), "/me/login")
    answer = page.goto(f"{site.url}/me/topups/{bobs_top_up.public_id}")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("alert")).to_have_text("Aucune de vos recharges n’a ce numéro.")
    page.goto(f"{site.url}/me?redeemed={bobs_redemption.group(1)}")
    expect(page.get_by_role("status")).to_have_count(0)
    for path in ("/me", "/me?transactions=2&jobs=2", "/me?transactions=0&jobs=-1"):
        page.goto(site.url + path)
        body = page.locator("main").inner_text()
        assert "Bob" not in body and "7,00" not in body and "DEMO" not in body, path
    # the forms take no user: a field naming bob is ignored, alice's account changes
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = httpx.post(site.url + "/me/language", cookies=cookies, follow_redirects=False,
                        data={"csrf_token": csrf, "language": "en",
                              "user_id": str(user_id(site.db, "bob")), "username": "bob"})
    assert answer.status_code == 303
    with site.db.read() as session:
        languages = dict(session.execute(select(User.username, User.language)).all())
    assert (languages["alice"], languages["bob"]) == ("en", "en")


def test_a_display_name_with_markup_is_shown_as_text(page: Any, site: WebSite) -> None:
    name = "<script>alert('x')</script>"
    with site.db.write() as session:
        session.scalars(select(User).where(User.username == "carol")).one().display_name = name
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, site, "carol", demo_user_password("carol"), "/me/login")
    expect(page.locator("header .user")).to_have_text(name)
    assert page.locator("script:not([src])").count() == 0
    assert dialogs == []


def test_a_top_up_form_sent_twice_starts_one_top_up(page: Any, paying_site: WebSite) -> None:
    site = paying_site
    sign_in(page, site, "bob", demo_user_password("bob"), "/me/login")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    operation = page.locator("input[name=operation]").get_attribute("value")

    def send(amount: str) -> httpx.Response:
        return httpx.post(site.url + "/me/topup", cookies=cookies, follow_redirects=False,
                          data={"csrf_token": csrf, "operation": operation, "other": amount})

    first, again, other = send("5.00"), send("5.00"), send("6.00")
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert other.status_code == 409 and "already sent for another amount" in other.text
    with site.db.read() as session:
        assert session.scalars(select(TopUp)).all()[0].amount == Decimal("5.00")
        assert len(session.scalars(select(TopUp)).all()) == 1
