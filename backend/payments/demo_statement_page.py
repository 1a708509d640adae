"""The demo gateway's page for a statement's payment request (issue 19).

Why a page of its own: a top-up's page settles a kiosk top-up through the ledger, while
a statement is paid by the same verified-event path a real gateway's webhook takes
(:func:`backend.statements.requests.apply_payment_event`), so the demo shows the real
outcome (the statement becomes *paid*, audited as ``gateway:demo``) with no money moved.
The link is ``/pay/statement/{reference}/{mac}``: the MAC, keyed with the backend's
secret, makes the link unguessable; the form's CSRF token is bound to the reference.
"""

from __future__ import annotations

import hmac
import uuid
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from backend.context import BackendContext
from backend.models import PaymentRequest, Statement, utcnow
from backend.money import fmt
from backend.payments.demo_gateway import render_page
from backend.payments.gateway import PaymentEvent
from backend.security import keyed_hash
from backend.statements.errors import StatementError
from backend.statements.requests import apply_payment_event


def link_mac(secret: bytes, reference: str) -> str:
    return keyed_hash(secret, reference, "demo-statement-link")


def _csrf(secret: bytes, reference: str) -> str:
    return keyed_hash(secret, reference, "demo-statement-csrf")


def router(context: BackendContext) -> APIRouter:
    pages = APIRouter(tags=["demo payment page"], include_in_schema=False)

    def _find(reference: str, mac: str) -> tuple[PaymentRequest, str] | None:
        if not hmac.compare_digest(mac, link_mac(context.secret, reference)):
            return None
        with context.db.read() as session:
            request = session.scalar(select(PaymentRequest).where(
                PaymentRequest.gateway == "demo", PaymentRequest.reference == reference))
            if request is None:
                return None
            statement = session.get(Statement, request.statement_id)
            assert statement is not None
            session.expunge(request)
            return request, statement.number

    def _render(request: PaymentRequest, number: str) -> HTMLResponse:
        if request.status != "open":
            message = {"paid": "This statement is paid. You can close this page."}.get(
                request.status, "This payment request was cancelled.")
            return render_page("demo_message.html", 200 if request.status == "paid" else 410,
                         title=f"Statement {number}", message=message)
        return render_page("demo_pay.html", title=f"Statement {number}",
                     amount=fmt(request.amount), currency=request.currency,
                     short_code=number, csrf=_csrf(context.secret, request.reference),
                     expires_at=None)

    def _unknown() -> HTMLResponse:
        return render_page("demo_message.html", 404, title="Unknown payment",
                     message="This payment link is not valid.")

    @pages.get("/pay/statement/{reference}/{mac}")
    def show(reference: str, mac: str) -> HTMLResponse:
        found = _find(reference, mac)
        return _unknown() if found is None else _render(*found)

    @pages.post("/pay/statement/{reference}/{mac}")
    async def act(reference: str, mac: str, request: Request) -> HTMLResponse:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        return await run_in_threadpool(_act, reference, mac, form)

    def _act(reference: str, mac: str, form: dict[str, list[str]]) -> HTMLResponse:
        found = _find(reference, mac)
        if found is None:
            return _unknown()
        payment, number = found
        if not hmac.compare_digest((form.get("csrf") or [""])[0],
                                   _csrf(context.secret, reference)):
            return render_page("demo_message.html", 403, title="Refused",
                         message="This form is not from this payment page. Reload it.")
        action = (form.get("action") or [""])[0]
        if action not in ("pay", "decline"):
            return render_page("demo_message.html", 400, title="Refused",
                         message="Choose Pay or Decline.")
        if payment.status == "open":
            event = PaymentEvent(
                event_id=f"demo_{uuid.uuid4().hex}",
                kind="succeeded" if action == "pay" else "failed",
                gateway_payment_id=payment.gateway_payment_id or f"demo_{reference}",
                amount=payment.amount, currency=payment.currency, top_up_id=reference)
            try:
                with context.db.write() as session:
                    apply_payment_event(session, "demo", event, utcnow())
            except StatementError as exc:
                return render_page("demo_message.html", 409, title="Refused", message=str(exc))
        again = _find(reference, mac)
        assert again is not None
        if action == "decline" and again[0].status == "open":
            return render_page("demo_message.html", 200, title=f"Statement {number}",
                         message="This payment was declined. The link still works.")
        return _render(*again)

    return pages
