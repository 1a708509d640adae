"""The ``demo`` gateway: a simulated hosted payment page served by the backend itself,
for the demo and the end-to-end tests. It moves no money, so it is off unless
backend.toml names it AND sets ``[payments.demo] enabled = true``, and every page it
serves says "SIMULATED PAYMENT - NOT FOR PRODUCTION".

The page is ``/pay/{token}`` (the top-up's URL token). Pay goes through the same
``settle_top_up`` as a webhook, with an event id of its own; Decline fails the top-up.
The form carries a CSRF token bound to the top-up (an HMAC of its public id), and the
template is autoescaped. A statement's payment request has its own page
(backend.payments.demo_statement_page).
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from backend import topups
from backend.context import BackendContext
from backend.ledger import LedgerError
from backend.models import TopUp, utcnow
from backend.money import fmt
from backend.payments.gateway import (
    CreatedPayment,
    PaymentEvent,
    PaymentStatus,
    WebhookRejected,
)
from backend.security import keyed_hash

BANNER = "SIMULATED PAYMENT - NOT FOR PRODUCTION"
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(default=True, default_for_string=True))


class DemoGateway:
    name = "demo"

    def __init__(self, secret: bytes, public_base_url: str) -> None:
        self._secret = secret
        self._base = public_base_url.rstrip("/")

    def create_payment(self, top_up_id: str, amount: Decimal, currency: str,
                       description: str, return_url: str) -> CreatedPayment:
        if top_up_id.startswith("stmt-"):  # a statement's payment request (issue 19)
            from backend.payments.demo_statement_page import link_mac

            mac = link_mac(self._secret, top_up_id)
            return CreatedPayment(f"{self._base}/pay/statement/{top_up_id}/{mac}",
                                  f"demo_{top_up_id}")
        token = topups.url_token(self._secret, top_up_id)
        return CreatedPayment(f"{self._base}/pay/{token}", f"demo_{top_up_id}")

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> PaymentEvent | None:
        raise WebhookRejected("the demo gateway sends no webhooks: its page settles "
                              "the top-up itself")

    def fetch_status(self, gateway_payment_id: str) -> PaymentStatus:
        """Nothing happens anywhere else than on our own page: always still pending."""
        return PaymentStatus("pending", Decimal("0.00"), "")

    def refund(self, gateway_payment_id: str, amount: Decimal) -> str:
        return f"demo_refund_{uuid.uuid4().hex[:12]}"


def csrf_token(secret: bytes, public_id: str) -> str:
    return keyed_hash(secret, public_id, "topup-csrf")


def render_page(template: str, status: int = 200, **values: object) -> HTMLResponse:
    html = _TEMPLATES.get_template(template).render(banner=BANNER, **values)
    return HTMLResponse(html, status_code=status,
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                 "Content-Security-Policy": "default-src 'none'; "
                                 "style-src 'unsafe-inline'; form-action 'self'"})


def router(context: BackendContext) -> APIRouter:
    """The page's routes (included only when the demo gateway is configured)."""
    pages = APIRouter(tags=["demo payment page"], include_in_schema=False)

    def _find(token: str) -> TopUp | None:
        with context.db.read() as session:
            top_up = topups.find_by_token(session, context.secret, token)
            if top_up is not None:
                session.expunge(top_up)
        return top_up

    @pages.get("/pay/{token}")
    def show(token: str) -> HTMLResponse:
        top_up = _find(token)
        if top_up is None:
            return render_page("demo_message.html", 404, title="Unknown payment",
                         message="This payment link is not valid.")
        return _render(top_up)

    def _render(top_up: TopUp, notice: str = "") -> HTMLResponse:
        if top_up.status != "pending" or top_up.expires_at < utcnow():
            messages = {"paid": "This top-up is paid. You can close this page.",
                        "failed": "This payment was declined.",
                        "cancelled": "This top-up was cancelled at the kiosk.",
                        "refunded": "This top-up was refunded."}
            message = messages.get(top_up.status, "This payment link has expired. Start "
                                   "a new top-up at the kiosk.")
            return render_page("demo_message.html", 200 if top_up.status == "paid" else 410,
                         title=f"Top-up {top_up.short_code}", message=notice or message)
        return render_page("demo_pay.html", amount=fmt(top_up.amount), currency=top_up.currency,
                     short_code=top_up.short_code,
                     csrf=csrf_token(context.secret, top_up.public_id),
                     expires_at=top_up.expires_at.strftime("%H:%M:%S UTC"))

    @pages.post("/pay/{token}")
    async def act(token: str, request: Request) -> HTMLResponse:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        return await run_in_threadpool(_act, token, form)

    def _act(token: str, form: dict[str, list[str]]) -> HTMLResponse:
        top_up = _find(token)
        if top_up is None:
            return render_page("demo_message.html", 404, title="Unknown payment",
                         message="This payment link is not valid.")
        sent = (form.get("csrf") or [""])[0]
        if not hmac.compare_digest(sent, csrf_token(context.secret, top_up.public_id)):
            return render_page("demo_message.html", 403, title="Refused",
                         message="This form is not from this payment page. Reload it.")
        action = (form.get("action") or [""])[0]
        if top_up.status != "pending" or top_up.expires_at < utcnow():
            return _render(top_up)
        try:
            with context.db.write() as session:
                if action == "pay":
                    assert top_up.gateway_payment_id is not None
                    topups.settle_top_up(session, top_up, amount=top_up.amount,
                                         currency=top_up.currency,
                                         gateway_payment_id=top_up.gateway_payment_id,
                                         event_id=f"demo_{uuid.uuid4().hex}",
                                         source="demo_page")
                elif action == "decline":
                    topups.fail_top_up(session, top_up, event_id=f"demo_{uuid.uuid4().hex}",
                                       source="demo_page")
                else:
                    return render_page("demo_message.html", 400, title="Refused",
                                 message="Choose Pay or Decline.")
        except LedgerError as exc:
            return render_page("demo_message.html", 409, title="Refused", message=exc.detail)
        found = _find(token)
        assert found is not None
        return _render(found)

    return pages
