"""``/admin/statements``: client statements (issue 19, docs/statements.md).

The list of statements, drafts generated for a period, a plan file uploaded for a
client, one statement's lines with its actions: issue, cancel, download the PDF, send
(or cancel) its payment request. Administrators change, auditors read. The rules and
their refusals are :mod:`backend.statements`'; each change there is audited with the
staff member and the page's origin.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from backend.models import Client, PaymentRequest, Statement, utcnow
from backend.payments.gateway import GatewayError
from backend.price_uploads import MAX_TOML_BYTES
from backend.statements.document import describe, load_view, status_text, unit_price
from backend.statements.errors import StatementError
from backend.statements.generate import generate_for_period, last_closed_period
from backend.statements.pdf import statement_pdf
from backend.statements.plan_store import find_client, store_plan
from backend.statements.requests import cancel_request, send_request
from backend.statements.status import change, find_statement
from backend.web.admin_prices import ProblemRow, problem_rows
from backend.web.auth import context_of, origin_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import page_text, render
from billing import ConfigError

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebIdentity, Depends(staff("administrator"))]
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]
Field = Annotated[str, Form(max_length=200)]
DONE = {"generated", "plan", "issued", "cancelled", "requested", "request_cancelled"}


def _list_page(request: Request, identity: WebIdentity, status_code: int = 200,
               error: str = "", problems: list[ProblemRow] | None = None,
               outcomes: list[str] | None = None) -> HTMLResponse:
    context = context_of(request)
    text = page_text(request, identity)
    with context.db.read() as session:
        rows = session.execute(select(Statement, Client).join(
            Client, Client.id == Statement.client_id)
            .order_by(Statement.period_start.desc(), Statement.number).limit(200)).tuples().all()
        clients = list(session.scalars(select(Client).order_by(Client.code)))
        listed = [(s, c, status_text(s.status, text)) for s, c in rows]
    default_day = last_closed_period(Client(billing_day=1), date.today()).start
    return render(request, "admin/statements.html", identity, status_code=status_code,
                  statements=listed, clients=clients, default_day=default_day.isoformat(),
                  error=error, problems=problems or [], outcomes=outcomes or [],
                  done=_done(request))


def _done(request: Request) -> str:
    done = request.query_params.get("done", "")
    return done if done in DONE else ""


@router.get("/admin/statements", response_class=HTMLResponse)
def statements_page(request: Request, identity: Reader) -> HTMLResponse:
    return _list_page(request, identity)


@router.post("/admin/statements/generate", response_class=HTMLResponse)
def generate(request: Request, identity: Admin, day: Field = "",
             client: Field = "") -> Response:
    text = page_text(request, identity)
    try:
        chosen = date.fromisoformat(day.strip())
    except ValueError:
        return _list_page(request, identity, 400, error=text(
            "Give the period as a day written YYYY-MM-DD."))
    context = context_of(request)
    try:
        with context.db.write() as session:
            outcomes = generate_for_period(session, chosen, actor=f"staff:{identity.username}",
                                           now=utcnow(), client_code=client.strip() or None,
                                           origin=origin_of(request))
    except StatementError as exc:
        return _list_page(request, identity, 400, error=str(exc))
    return _list_page(request, identity, outcomes=outcomes)


@router.post("/admin/statements/plans", response_class=HTMLResponse)
async def upload_plan(request: Request, identity: Admin) -> Response:
    text = page_text(request, identity)
    form = await request.form()
    upload, code = form.get("plan"), str(form.get("client") or "")[:64]
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _list_page(request, identity, 400, error=text(
            "Choose a TOML plan file to upload."))
    filename = upload.filename.rsplit("/", 1)[-1][:200]
    raw = await upload.read(MAX_TOML_BYTES + 1)
    try:
        source = raw[:MAX_TOML_BYTES].decode("utf-8")
    except UnicodeDecodeError:
        return _list_page(request, identity, 400, error=text("The file is not UTF-8 text."))
    context = context_of(request)
    try:
        with context.db.write() as session:
            store_plan(session, find_client(session, code), source, filename,
                       actor=f"staff:{identity.username}", today=date.today(),
                       origin=origin_of(request))
    except ConfigError as exc:
        return _list_page(request, identity, 400, problems=problem_rows(exc.problems))
    except StatementError as exc:
        return _list_page(request, identity, 400, error=str(exc))
    return RedirectResponse("/admin/statements?done=plan", status_code=303)


def _statement_page(request: Request, identity: WebIdentity, number: str,
                    status_code: int = 200, error: str = "") -> HTMLResponse:
    context = context_of(request)
    text = page_text(request, identity)
    with context.db.read() as session:
        try:
            statement = find_statement(session, number)
        except StatementError:
            return render(request, "admin/not_found.html", identity, status_code=404)
        view = load_view(session, statement)
        requests = list(session.scalars(select(PaymentRequest).where(
            PaymentRequest.statement_id == statement.id).order_by(PaymentRequest.id)))
    lines = [(line, describe(line, text), unit_price(text, line.unit_price))
             for line in view.lines]
    return render(request, "admin/statement.html", identity, status_code=status_code,
                  view=view, lines=lines, requests=requests, error=error,
                  status=status_text(view.status, text),
                  last_day=view.period_end - timedelta(days=1),
                  can_request=request.app.state.gateway is not None, done=_done(request))


@router.get("/admin/statements/{number}", response_class=HTMLResponse)
def statement_page(request: Request, identity: Reader, number: str) -> HTMLResponse:
    return _statement_page(request, identity, number[:64])


@router.get("/admin/statements/{number}/pdf")
def statement_pdf_download(request: Request, identity: Reader, number: str) -> Response:
    context = context_of(request)
    with context.db.read() as session:
        try:
            view = load_view(session, find_statement(session, number[:64]))
        except StatementError:
            return render(request, "admin/not_found.html", identity, status_code=404)
    data = statement_pdf(view, context.config.vouchers.timezone or "UTC")
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="statement-{view.number}.pdf"'})


@router.post("/admin/statements/{number}/{action}", response_class=HTMLResponse)
def statement_action(request: Request, identity: Admin, number: str,
                     action: str) -> Response:
    context = context_of(request)
    number = number[:64]
    actor, origin, now = f"staff:{identity.username}", origin_of(request), utcnow()
    try:
        with context.db.write() as session:
            statement = find_statement(session, number, lock=True)
            if action in ("issue", "cancel"):
                change(session, statement, "issued" if action == "issue" else "cancelled",
                       actor=actor, now=now, origin=origin,
                       due_days=context.config.statements.due_days)
                done = "issued" if action == "issue" else "cancelled"
            elif action == "request":
                gateway = request.app.state.gateway
                if gateway is None:
                    raise StatementError("no payment gateway is configured ([payments] "
                                         "gateway): a payment request needs one")
                send_request(session, statement, gateway,
                             base_url=context.config.payments.public_base_url or "",
                             actor=actor, now=now, origin=origin)
                done = "requested"
            elif action == "cancel-request":
                cancel_request(session, statement, actor=actor, now=now, origin=origin)
                done = "request_cancelled"
            else:
                return render(request, "admin/not_found.html", identity, status_code=404)
    except (StatementError, GatewayError) as exc:
        return _statement_page(request, identity, number, 400, error=str(exc))
    return RedirectResponse(f"/admin/statements/{number}?done={done}", status_code=303)
