"""``/admin``: the administration console's front page, what needs a look today.

Open to administrators and auditors (who read everything and change nothing); each
section of the console is its own module and adds its link to :data:`SECTIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from backend.models import Hold, Terminal, User
from backend.web.auth import context_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]


@dataclass(frozen=True)
class Section:
    href: str
    title: str  # an English msgid, translated in the template
    summary: str


# The console's sections, in the order of the front page.
SECTIONS: list[Section] = [
    # admin_site
    Section("/admin/prices", "Price lists", "The list in force, uploads and versions"),
    Section("/admin/quotas", "Quotas and refills", "The policy, the last and next refills"),
    Section("/admin/terminals", "Terminals", "Enrolment keys, terminals, revocation"),
    Section("/admin/holds", "Open holds", "Holds by age, expire them"),
    Section("/admin/vouchers", "Vouchers", "Voucher batches, new batch, revoke"),
    Section("/admin/top-ups", "Top-ups", "Online top-ups and refunds"),
    # admin_notify
    Section("/admin/notifications", "Notifications",
            "The e-mail outbox: failed and waiting mails, retry"),
    # admin_devices
    Section("/admin/devices", "Device problems", "Open problems of printers and kiosks"),
    # admin_statements
    Section("/admin/statements", "Statements",
            "Client statements: drafts, issue, PDF, payment requests"),
    # admin_reports
    Section("/admin/reports", "Usage reports",
            "Jobs, pages and amounts by user, device, site, code, period"),
]


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, identity: Reader) -> HTMLResponse:
    context = context_of(request)
    with context.db.read() as session:
        users = session.scalar(select(func.count()).select_from(User)) or 0
        terminals = session.scalar(select(func.count()).select_from(Terminal).where(
            Terminal.revoked_at.is_(None))) or 0
        holds = session.scalar(select(func.count()).select_from(Hold).where(
            Hold.status == "open")) or 0
    return render(request, "admin/home.html", identity, users=users, terminals=terminals,
                  holds=holds, sections=SECTIONS)
