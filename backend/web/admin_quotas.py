"""``/admin/quotas``: the quota policy (each group's rule and the refill settings), the
last refill runs and the next one due, and "run now" (administrators).

"Run now" is :func:`backend.refill.refill_due`, the schedule's own function: idempotent
per period by its ``RefillRun`` row, so a second click (or a server tick) refills nobody
twice; the page then says "nothing due". The run is audited ``refill.run`` with who and
from where, in its transaction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend import refill_status
from backend.audit import record
from backend.ledger import ZERO
from backend.models import utcnow
from backend.money import fmt
from backend.refill import refill_due
from backend.web.auth import context_of, origin_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import render

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebIdentity, Depends(staff("administrator"))]
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]


@router.get("/admin/quotas", response_class=HTMLResponse)
def quotas_page(request: Request, identity: Reader) -> HTMLResponse:
    context = context_of(request)
    with context.db.read() as session:
        rules = refill_status.rule_status(session, utcnow())
        runs = refill_status.last_runs(session)
    ran, was_due = (request.query_params.get(name, "") for name in ("ran", "due"))
    return render(request, "admin/quotas.html", identity, rules=rules, runs=runs,
                  due=refill_status.due_now(rules), settings=context.config.refill,
                  ran=int(ran) if ran.isdigit() else None,
                  was_due=int(was_due) if was_due.isdigit() else 0)


@router.post("/admin/quotas/run")
def run_now(request: Request, identity: Admin) -> Response:
    context = context_of(request)
    with context.db.write() as session:
        due = refill_status.due_now(refill_status.rule_status(session, utcnow()))
        done = refill_due(session, context.currency)
        record(session, f"staff:{identity.username}", "refill.run", "quota_rules", {
            "rules_due": due, "users_refilled": len(done),
            "amount": fmt(sum((item.amount for item in done), ZERO))},
            origin=origin_of(request))
    return RedirectResponse(f"/admin/quotas?due={due}&ran={len(done)}", status_code=303)
