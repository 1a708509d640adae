"""``/admin/terminals``: enrolment keys (create with an expiry, shown once; list without
the secret; revoke an unused one) and the terminals (last seen, state, printer; revoke,
which voids the terminal's open holds).

The kiosk sends no software version at enrolment or heartbeat (``EnrolRequest`` has
name, device, device model and offline limit), so the list shows what is recorded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from backend import terminals
from backend.ledger import LedgerError
from backend.models import EnrolmentKey, Hold, Terminal, utcnow
from backend.web.auth import context_of, origin_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import page_text, render

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebIdentity, Depends(staff("administrator"))]
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]
MAX_DAYS = terminals.MAX_KEY_LIFETIME.days


def _page(request: Request, identity: WebIdentity, status_code: int = 200,
          new_key: str | None = None, error: str | None = None, days: str = "7",
          confirm: Terminal | None = None, confirm_holds: int = 0) -> HTMLResponse:
    context = context_of(request)
    now = utcnow()
    with context.db.read() as session:
        keys = list(session.scalars(select(EnrolmentKey).order_by(EnrolmentKey.id.desc())
                                    .limit(100)))
        rows = list(session.scalars(select(Terminal).order_by(Terminal.name, Terminal.id)))
        holds = {terminal_id: count for terminal_id, count in session.execute(
            select(Hold.terminal_id, func.count()).where(Hold.status == "open")
            .group_by(Hold.terminal_id)).tuples()}
    listed = [(t, terminals.effective_state(t), holds.get(t.id, 0)) for t in rows]
    return render(request, "admin/terminals.html", identity, status_code=status_code,
                  keys=[(k, terminals.key_state(k, now)) for k in keys], terminals=listed,
                  new_key=new_key, error=error, days=days, max_days=MAX_DAYS,
                  confirm=confirm, confirm_holds=confirm_holds)


@router.get("/admin/terminals", response_class=HTMLResponse)
def terminals_page(request: Request, identity: Reader) -> HTMLResponse:
    return _page(request, identity)


@router.post("/admin/terminals/keys", response_class=HTMLResponse)
def create_key(request: Request, identity: Admin,
               days: Annotated[str, Form(max_length=10)] = "") -> HTMLResponse:
    """Answers with the page itself (no redirect): the key is shown this once only."""
    text = page_text(request, identity)
    try:
        count = int(days.strip())
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_DAYS:
        return _page(request, identity, 400, days=days, error=text(
            "Valid for: give a whole number of days from 1 to {max}.", max=MAX_DAYS))
    context = context_of(request)
    with context.db.write() as session:
        key = terminals.create_enrolment_key(
            session, context.secret, f"staff:{identity.username}",
            expires_at=utcnow() + timedelta(days=count), origin=origin_of(request))
    response = _page(request, identity, new_key=key, days=days)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/terminals/keys/{key_id}/revoke")
def revoke_key(request: Request, key_id: int, identity: Admin) -> Response:
    context = context_of(request)
    try:
        with context.db.write() as session:
            terminals.revoke_enrolment_key(session, key_id, f"staff:{identity.username}",
                                           origin_of(request))
    except LedgerError:
        text = page_text(request, identity)
        return _page(request, identity, 409, error=text(
            "Only an unused key can be revoked."))
    return RedirectResponse("/admin/terminals", status_code=303)


@router.get("/admin/terminals/{terminal_id}/revoke", response_class=HTMLResponse)
def confirm_revoke(request: Request, terminal_id: str, identity: Admin) -> HTMLResponse:
    """The confirmation: what revoking will void, before anything is done."""
    context = context_of(request)
    with context.db.read() as session:
        terminal = session.get(Terminal, terminal_id)
        holds = session.scalar(select(func.count()).select_from(Hold).where(
            Hold.terminal_id == terminal_id, Hold.status == "open")) or 0
    if terminal is None:
        text = page_text(request, identity)
        return _page(request, identity, 404, error=text("No such terminal."))
    return _page(request, identity, confirm=terminal, confirm_holds=holds)


@router.post("/admin/terminals/{terminal_id}/revoke")
def revoke_terminal(request: Request, terminal_id: str, identity: Admin) -> Response:
    context = context_of(request)
    try:
        with context.db.write() as session:
            terminals.revoke(session, terminal_id, f"staff:{identity.username}",
                             origin_of(request))
    except LedgerError:
        text = page_text(request, identity)
        return _page(request, identity, 404, error=text("No such terminal."))
    return RedirectResponse("/admin/terminals", status_code=303)
