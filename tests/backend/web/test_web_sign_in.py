"""Signing in to the staff pages and the user's own page, in Chromium, with the demo web
accounts: where each role lands, a cashier refused at /admin, the lockout after the
allowed wrong passwords, a form without its CSRF token refused, the security headers,
and signing out (the session is then dead on the server too)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from web_site import WebSite, assert_accessible, screenshot, sign_in

from backend.demo_web import DEMO_STAFF, demo_user_password
from backend.models import AuditEntry, WebSession
from backend.web.security_headers import CSP

pytestmark = [pytest.mark.peer, pytest.mark.browser]
CLERK, ADMIN, AUDITOR = DEMO_STAFF


def test_an_administrator_signs_in_and_lands_on_the_console(page: Any, site: WebSite) -> None:
    page.goto(site.url + "/")
    screenshot(page, "landing")
    sign_in(page, site, ADMIN.username, ADMIN.password)
    expect(page).to_have_url(site.url + "/admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    expect(page.get_by_text(ADMIN.display_name)).to_be_visible()
    screenshot(page, "admin-home")
    assert_accessible(page)
    with site.db.read() as session:
        row = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "web.sign_in")).one()
    assert (row.actor, row.subject, row.origin) == ("staff:admin", "admin", "web:127.0.0.1")


def test_the_sign_in_page_is_accessible_and_in_french(page: Any, site: WebSite) -> None:
    page.goto(site.url + "/login")
    assert_accessible(page)
    screenshot(page, "sign-in")
    page.get_by_role("link", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion du personnel")
    screenshot(page, "sign-in-fr")


def test_a_cashier_is_sent_to_the_desk_and_refused_administration(page: Any,
                                                                  site: WebSite) -> None:
    page.goto(site.url + "/staff")
    expect(page).to_have_url(re.compile(r"/login$"))
    sign_in(page, site, CLERK.username, CLERK.password)
    expect(page).to_have_url(re.compile(r"/cash-desk"))
    answer = page.goto(site.url + "/admin")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("alert")).to_have_text("Your account may not open this page.")
    screenshot(page, "forbidden")


def test_an_auditor_reads_the_console_and_is_told_so(page: Any, site: WebSite) -> None:
    sign_in(page, site, AUDITOR.username, AUDITOR.password, "/login?next=/admin")
    expect(page).to_have_url(site.url + "/admin")
    expect(page.get_by_text("you can read every page and change nothing")).to_be_visible()


def test_a_page_asks_for_sign_in_and_comes_back_after_it(page: Any, site: WebSite) -> None:
    page.goto(site.url + "/admin")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin$"))
    page.get_by_label("Username").fill(ADMIN.username)
    page.get_by_label("Password").fill(ADMIN.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(site.url + "/admin")


def test_the_next_address_never_leaves_the_site(page: Any, site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password, "/login?next=//evil.example/x")
    expect(page).to_have_url(site.url + "/admin")


@pytest.mark.both_databases
def test_wrong_passwords_lock_the_username_even_the_right_one_then(page: Any,
                                                                   site: WebSite) -> None:
    allowed = site.config.web.login_max_failures
    for attempt in range(allowed):
        sign_in(page, site, CLERK.username, f"wrong-password-{attempt}")
        if attempt < allowed - 1:
            expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_role("alert")).to_contain_text("this account is locked until")
    screenshot(page, "sign-in-locked")
    sign_in(page, site, CLERK.username, CLERK.password)
    expect(page.get_by_role("alert")).to_contain_text("this account is locked until")
    expect(page).to_have_url(re.compile(r"/login"))


def test_an_unknown_username_locks_like_a_real_one(page: Any, site: WebSite) -> None:
    for _ in range(site.config.web.login_max_failures):
        sign_in(page, site, "nobody-here", "whatever-password")
    expect(page.get_by_role("alert")).to_contain_text("this account is locked until")


def test_a_user_signs_in_to_their_own_page_not_to_staff_pages(page: Any,
                                                               site: WebSite) -> None:
    sign_in(page, site, "bob", demo_user_password("bob"))
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    sign_in(page, site, "bob", demo_user_password("bob"), "/me/login")
    expect(page).to_have_url(re.compile(r"/me$"))


def test_signing_out_ends_the_session_on_the_server(page: Any, site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password)
    cookie = next(c for c in page.context.cookies() if c["name"] == "pk_staff")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["secure"]
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    # the old cookie, replayed, opens nothing
    replay = httpx.get(site.url + "/admin", cookies={"pk_staff": cookie["value"]},
                       follow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/login")


def test_an_idle_session_expires(page: Any, site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password)
    idle = timedelta(seconds=site.config.web.staff_idle_timeout_s + 1)
    with site.db.write() as session:
        for row in session.scalars(select(WebSession)):
            row.last_seen_at -= idle
    page.goto(site.url + "/admin")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin$"))


def test_a_form_without_its_csrf_token_is_refused(page: Any, site: WebSite) -> None:
    sign_in(page, site, ADMIN.username, ADMIN.password)
    cookie = next(c for c in page.context.cookies() if c["name"] == "pk_staff")
    forged = httpx.post(site.url + "/logout", cookies={"pk_staff": cookie["value"]},
                        follow_redirects=False)
    assert forged.status_code == 403
    assert "did not come from this site" in forged.text
    page.goto(site.url + "/admin")  # still signed in: the forged post did nothing
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    pre = httpx.post(site.url + "/login", data={"username": ADMIN.username,
                                                "password": ADMIN.password})
    assert pre.status_code == 403  # the sign-in form needs its token too


def test_every_page_carries_the_security_headers(site: WebSite) -> None:
    for path in ("/", "/login", "/me/login"):
        answer = httpx.get(site.url + path)
        assert answer.headers["content-security-policy"] == CSP, path
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
    static = httpx.get(site.url + "/static/app.css")
    assert static.status_code == 200 and "cache-control" not in static.headers
    api = httpx.get(site.url + "/api/v1/health")
    assert "content-security-policy" not in api.headers
