"""``/admin/notifications``: the e-mail outbox. Counts by status, every failed mail with
its recipient, kind, error and time, the pending ones with their next attempt, the last
sent ones (filtered by recipient: "did Bob get the mail?"); a failed
mail can be retried (administrators; audited ``notification.retry`` with who and from
where). Auditors read the page and change nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.notify import outbox_view
from backend.web.auth import context_of, origin_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import page_text, render

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebIdentity, Depends(staff("administrator"))]
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]


def _page(request: Request, identity: WebIdentity, status_code: int = 200,
          error: str | None = None) -> HTMLResponse:
    context = context_of(request)
    to_address = request.query_params.get("to", "").strip()[:254]
    with context.db.read() as session:
        counts = outbox_view.counts(session)
        failed = outbox_view.failed(session)
        pending = outbox_view.pending(session)
        sent = outbox_view.sent(session, to_address)
    retried = request.query_params.get("retried", "")
    return render(request, "admin/notifications.html", identity, status_code=status_code,
                  counts=counts, failed=failed, pending=pending, sent=sent,
                  to_address=to_address, error=error,
                  enabled=context.config.notifications.enabled,
                  retried=int(retried) if retried.isdigit() else None)


@router.get("/admin/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, identity: Reader) -> HTMLResponse:
    return _page(request, identity)


@router.post("/admin/notifications/{notification_id}/retry")
def retry(request: Request, notification_id: int, identity: Admin) -> Response:
    text = page_text(request, identity)
    context = context_of(request)
    try:
        with context.db.write() as session:
            outbox_view.retry(session, notification_id, f"staff:{identity.username}",
                              origin_of(request))
    except outbox_view.RetryRefused:
        return _page(request, identity, 409, error=text(
            "Mail {id} is not failed (any more): nothing to retry.", id=notification_id))
    return RedirectResponse(f"/admin/notifications?retried={notification_id}",
                            status_code=303)
