"""``/admin/holds``: the open holds, oldest first, with their age; expire the chosen ones
or every one older than some hours (administrators; audited ``hold.expire`` with who and
from where, by :mod:`backend.holds_admin`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend import holds_admin
from backend.ledger import LedgerError
from backend.models import utcnow
from backend.web.auth import context_of, origin_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import page_text, render

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebIdentity, Depends(staff("administrator"))]
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]


def _page(request: Request, identity: WebIdentity, status_code: int = 200,
          error: str | None = None, hours: str = "") -> HTMLResponse:
    context = context_of(request)
    with context.db.read() as session:
        holds = holds_admin.open_holds(session)
    expired = request.query_params.get("expired", "")
    return render(request, "admin/holds.html", identity, status_code=status_code,
                  holds=holds, now=utcnow(), error=error,
                  hours=hours or str(context.config.holds.expire_after_h),
                  expired=int(expired) if expired.isdigit() else None)


@router.get("/admin/holds", response_class=HTMLResponse)
def holds_page(request: Request, identity: Reader) -> HTMLResponse:
    return _page(request, identity)


@router.post("/admin/holds/expire")
async def expire(request: Request, identity: Admin) -> Response:
    """``hold`` fields (the boxes ticked) or ``older_than_h`` (the "older than" form)."""
    text = page_text(request, identity)
    form = await request.form()
    chosen = [value for value in form.getlist("hold") if isinstance(value, str)][:500]
    hours_field = form.get("older_than_h")
    context = context_of(request)
    actor, origin = f"staff:{identity.username}", origin_of(request)
    if hours_field is not None:
        hours = str(hours_field).strip()[:10]
        try:
            with context.db.write() as session:
                voided = holds_admin.expire_older_than(session, int(hours), actor, origin)
        except (ValueError, LedgerError):
            return _page(request, identity, 400, hours=hours, error=text(
                "Older than: give a whole number of hours from 1 to {max}.",
                max=holds_admin.MAX_AGE_H))
    elif chosen:
        with context.db.write() as session:
            voided = holds_admin.expire_chosen(session, chosen, actor, origin)
    else:
        return _page(request, identity, 400, error=text("Tick the holds to expire."))
    return RedirectResponse(f"/admin/holds?expired={len(voided)}", status_code=303)
