"""``/admin/audit``: the audit log, newest first, a page at a time, filtered by actor,
action (a select of the actions present), subject and date range; each row shows where
the change came from. Read by administrators and auditors; nothing here changes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from backend.audit_query import AuditFilter, actions, read_page
from backend.web.admin_home import SECTIONS, Section
from backend.web.auth import context_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import page_text, render

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]
PER_PAGE = 50

SECTIONS.append(Section("/admin/audit", "Audit log",
                        "Who changed what, when and from where."))


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_log(request: Request, identity: Reader, actor: str = "", action: str = "",
              subject: str = "", since: str = "", until: str = "",
              page: str = "1") -> HTMLResponse:
    """``since``/``until`` are days (YYYY-MM-DD, both included) in the site's time zone."""
    text = page_text(request, identity)
    zone = ZoneInfo(text.timezone)
    first, last = _day(since[:10]), _day(until[:10])
    errors = {name: text("Enter a date as YYYY-MM-DD.")
              for name, raw, parsed in (("since", since, first), ("until", until, last))
              if raw and parsed is None}
    chosen = AuditFilter(
        actor=actor.strip()[:200], action=action[:100], subject=subject.strip()[:200],
        since=datetime.combine(first, time(), zone) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), zone) if last else None)
    with context_of(request).db.read() as session:
        found = read_page(session, chosen, int(page) if page.isdigit() and len(page) < 7
                          else 1, PER_PAGE)
        present = actions(session)
    query = {"actor": chosen.actor, "action": chosen.action, "subject": chosen.subject,
             "since": since[:10], "until": until[:10]}
    return render(request, "admin/audit.html", identity, status_code=400 if errors else 200,
                  found=found, actions=present, chosen=query, errors=errors)
