"""The console's usage reports in Chromium (issue 19): the demo's job history grouped by
user and month, a display name with markup shown as text, filters, the CSV and chart
downloads, a bad date refused by name, and the auditor's read-only access."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update
from web_site import WebSite, assert_accessible, screenshot, sign_in

from backend.demo_reports import JOBS, seed_demo_reports
from backend.demo_web import DEMO_STAFF
from backend.models import Hold, User, utcnow
from backend.reports.engine import total
from backend.reports.query import ReportQuery

pytestmark = [pytest.mark.peer, pytest.mark.browser]
ADMIN, AUDITOR = DEMO_STAFF[1], DEMO_STAFF[2]
SCRIPT_NAME = "<script>alert('x')</script> Bob"


def _seed(site: WebSite) -> None:
    seed_demo_reports(site.db)
    with site.db.write() as session:
        session.execute(update(User).where(User.username == "bob")
                        .values(display_name=SCRIPT_NAME))


def _range() -> tuple[str, str]:
    today = utcnow().date()
    return (today - timedelta(days=70)).isoformat(), (today + timedelta(days=1)).isoformat()


def test_the_report_by_user_shows_the_demo_history(page: Any, site: WebSite) -> None:
    _seed(site)
    start, end = _range()
    sign_in(page, site, ADMIN.username, ADMIN.password, "/login?next=/admin")
    page.get_by_role("link", name="Usage reports").click()
    expect(page).to_have_url(site.url + "/admin/reports")
    page.locator("#from").fill(start)
    page.locator("#to").fill(end)
    page.locator("#period").select_option("range")
    page.get_by_role("button", name="Show the report").click()
    table = page.locator("#report-table")
    expect(table).to_contain_text(SCRIPT_NAME)  # shown as text, not run
    assert page.evaluate("() => document.querySelectorAll('#report-table script').length") == 0
    with site.db.read() as session:
        whole = total(session, ReportQuery(("user",), *(_dt(start), _dt(end)), "range"))
        held = len(list(session.scalars(select(Hold.id).where(Hold.job_ref.like("demo-report-%")))))
    assert whole.jobs == held == JOBS
    footer = page.locator("#report-total")
    expect(footer).to_contain_text(str(whole.jobs))
    expect(footer).to_contain_text(f"{whole.charged:.2f}")
    expect(table.locator("tbody tr")).to_have_count(3)  # alice, bob, carol
    assert_accessible(page)
    screenshot(page, "admin-reports")

    response = page.request.get(page.get_by_role("link", name="Download CSV").get_attribute("href")
                                .replace("/admin", site.url + "/admin", 1))
    assert response.ok and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert sum(int(row["jobs"]) for row in rows) == JOBS
    assert sum((Decimal(row["charged"]) for row in rows), Decimal(0)) == whole.charged
    png = page.request.get(site.url + page.locator("#report-png").get_attribute("href"))
    assert png.ok and png.body()[:4] == b"\x89PNG"
    svg = page.request.get(site.url + page.locator("#report-svg").get_attribute("href"))
    assert svg.ok and b"<svg" in svg.body()


def _dt(day: str) -> Any:
    from backend.reports.query import parse_day
    return parse_day("from", day)


def test_filters_functions_and_a_bad_date(page: Any, site: WebSite) -> None:
    _seed(site)
    start, end = _range()
    sign_in(page, site, AUDITOR.username, AUDITOR.password, "/login?next=/admin/reports")
    page.goto(f"{site.url}/admin/reports?by=function&period=range&from={start}&to={end}"
              "&where=user%3Dalice")
    table = page.locator("#report-table")
    expect(table.locator("tbody tr").first).to_be_visible()
    functions = table.locator("tbody tr td:first-child").all_inner_texts()
    assert set(functions) <= {"print", "copy", "scan"} and functions
    expect(page.get_by_label("Filters")).to_have_value("user=alice")
    page.locator("#from").fill(end)
    page.get_by_role("button", name="Show the report").click()
    expect(page.locator("#report-error")).to_contain_text("to:")
    expect(page.locator("#report-error")).to_contain_text("must be after from")
    expect(page.locator("#report-table")).to_have_count(0)
