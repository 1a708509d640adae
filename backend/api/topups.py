"""Top-ups at the kiosk (issue 14): the options, a new top-up, its long-poll, cancel;
and the gateways' webhooks.

The long-poll is an ``async`` endpoint awaiting the process's :class:`TopUpWaiter`:
while it waits it holds no thread of the pool that serves holds and captures; its
database reads run in that pool, briefly. See docs/payments.md.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from backend import ledger, topups
from backend.api.deps import Context, CurrentTerminal, SessionToken, problem_from, session_user
from backend.api.schemas import TopUpRequest
from backend.audit import record
from backend.context import BackendContext
from backend.ledger import LedgerError
from backend.models import TopUp, User, utcnow
from backend.money import fmt
from backend.payments.gateway import PaymentGateway, WebhookRejected
from backend.problems import ApiProblem
from backend.statements.requests import apply_payment_event

router = APIRouter(tags=["top-ups"])
MAX_WAIT_S = 30


def _gateway(request: Request) -> PaymentGateway:
    gateway: PaymentGateway | None = request.app.state.gateway
    if gateway is None:
        raise ApiProblem(503, "topup_unavailable", "Top-up unavailable",
                         "no payment gateway is configured ([payments] gateway in "
                         "backend.toml)")
    return gateway


def top_up_json(context: BackendContext, top_up: TopUp) -> dict[str, Any]:
    pay_url = top_up.pay_url
    if pay_url is None:  # the demo page: its URL holds the token, given again from the key
        base = (context.config.payments.public_base_url or "").rstrip("/")
        pay_url = f"{base}/pay/{topups.url_token(context.secret, top_up.public_id)}"
    return {"id": top_up.public_id, "status": top_up.status, "amount": fmt(top_up.amount),
            "currency": top_up.currency, "short_code": top_up.short_code,
            # bank_transfer: no page to pay on ("" from the gateway), the QR is a GiroCode
            "qr_payload": top_up.qr_payload or pay_url, "pay_url": pay_url or None,
            "expires_at": top_up.expires_at.isoformat(), "late": top_up.late}


@router.get("/topups/options")
def options(request: Request, context: Context, terminal: CurrentTerminal) -> dict[str, Any]:
    """What the kiosk offers: the gateway, the limits and the preset amounts."""
    gateway = _gateway(request)
    settings = context.config.payments
    return {"gateway": gateway.name, "currency": context.currency,
            "min": fmt(settings.min_decimal), "max": fmt(settings.max_decimal),
            "presets": [fmt(Decimal(preset)) for preset in settings.presets],
            "expires_after_s": settings.expire_after_min * 60}


@router.post("/topups", status_code=201)
def create(body: TopUpRequest, request: Request, context: Context,
           terminal: CurrentTerminal, session_token: SessionToken = None) -> JSONResponse:
    """A top-up of ``amount`` for the session's user: the QR to show and its expiry. The
    same idempotency key returns the same top-up."""
    gateway = _gateway(request)
    settings = context.config.payments
    if not settings.min_decimal <= body.amount <= settings.max_decimal:
        raise ApiProblem(422, "topup_amount", "Amount outside the limits",
                         f"{fmt(body.amount)}: a top-up is {fmt(settings.min_decimal)} to "
                         f"{fmt(settings.max_decimal)}", min=fmt(settings.min_decimal),
                         max=fmt(settings.max_decimal))
    user_id = session_user(context, terminal, session_token)
    try:
        top_up = topups.start_top_up(
            context.db, context.secret, gateway, user_id=user_id, terminal_id=terminal.id,
            amount=body.amount, currency=context.currency,
            expire_after=timedelta(minutes=settings.expire_after_min),
            public_base_url=settings.public_base_url,
            idempotency_key=body.idempotency_key, actor="terminal")
    except LedgerError as exc:
        raise problem_from(exc) from exc
    except topups.GatewayUnavailable as exc:
        raise ApiProblem(503, "topup_unavailable", "Top-up unavailable",
                         f"the payment gateway refused or did not answer: {exc}") from exc
    return JSONResponse({"topup": top_up_json(context, top_up)}, 201)


def _mine(session: Session, public_id: str, user_id: int) -> TopUp:
    top_up = topups.find(session, public_id)
    if top_up.user_id != user_id:  # another user's: answered as unknown
        raise LedgerError("topup_unknown", f"no top-up {public_id!r}")
    return top_up


def _state(context: BackendContext, public_id: str, user_id: int) -> tuple[dict[str, Any],
                                                                           float]:
    """The long-poll's body, and how long the top-up may still stay pending (seconds)."""
    now = utcnow()
    with context.db.read() as session:
        top_up = _mine(session, public_id, user_id)
        due = top_up.status == "pending" and top_up.expires_at <= now
    if due:  # expired before the expiry job came by: say so now, exactly as it would
        with context.db.write() as session:
            expired = session.execute(update(TopUp).where(TopUp.id == top_up.id,
                                                          TopUp.status == "pending")
                                      .values(status="expired", changed_at=now)
                                      .returning(TopUp.public_id)).scalar_one_or_none()
            if expired is not None:
                record(session, "scheduler", "topup.expire", expired, {})
    with context.db.read() as session:
        top_up = _mine(session, public_id, user_id)
        balance = None
        if top_up.status == "paid":
            user = session.get(User, user_id)
            assert user is not None
            balance = ledger.balance(session, user, context.currency).as_json()
        left = (top_up.expires_at - now).total_seconds()
        return {"topup": top_up_json(context, top_up), "balance": balance}, left


@router.get("/topups/{public_id}")
async def wait(public_id: str, request: Request, context: Context,
               terminal: CurrentTerminal, session_token: SessionToken = None,
               wait_s: int = Query(default=0, ge=0, le=MAX_WAIT_S,
                                   description="long-poll: answer when the status changes, "
                                   "or after this many seconds")) -> dict[str, Any]:
    """The top-up's status; with ``wait_s``, answered as soon as it leaves ``pending``
    (within ~0.2 s of the payment, in whichever backend process it was settled)."""
    try:
        user_id = await run_in_threadpool(session_user, context, terminal, session_token)
        body, left = await run_in_threadpool(_state, context, public_id, user_id)
        if body["topup"]["status"] == "pending" and wait_s > 0:
            await request.app.state.topup_waiter.wait(public_id,
                                                      min(float(wait_s), max(left, 0) + 0.3))
            body, _left = await run_in_threadpool(_state, context, public_id, user_id)
    except LedgerError as exc:
        raise problem_from(exc) from exc
    return body


@router.post("/topups/{public_id}/cancel")
def cancel(public_id: str, context: Context, terminal: CurrentTerminal,
           session_token: SessionToken = None) -> dict[str, Any]:
    """The user gave up: the top-up is cancelled (a payment arriving later still credits)."""
    user_id = session_user(context, terminal, session_token)
    try:
        with context.db.write() as session:
            top_up = topups.cancel_top_up(session, _mine(session, public_id, user_id),
                                          f"terminal:{terminal.id}")
            return {"topup": top_up_json(context, top_up)}
    except LedgerError as exc:
        raise problem_from(exc) from exc


webhooks = APIRouter(tags=["payment webhooks"])


@webhooks.post("/payments/webhooks/{gateway_name}")
async def webhook(gateway_name: str, request: Request, context: Context) -> dict[str, str]:
    """A gateway's notification (no terminal token: the gateway's signature is checked).
    400 ``webhook_rejected`` when it does not verify, and nothing changes."""
    gateway: PaymentGateway | None = request.app.state.gateway
    if gateway is None or gateway.name != gateway_name:
        raise ApiProblem(404, "gateway_unknown", "No such gateway",
                         f"{gateway_name!r} is not this backend's payment gateway")
    body = await request.body()
    return await run_in_threadpool(_apply_webhook, context, gateway, body,
                                   dict(request.headers))


def _apply_webhook(context: BackendContext, gateway: PaymentGateway, body: bytes,
                   headers: dict[str, str]) -> dict[str, str]:
    try:
        event = gateway.parse_webhook(body, headers)
    except WebhookRejected as exc:
        raise ApiProblem(400, "webhook_rejected", "Webhook rejected", str(exc)) from exc
    if event is None:
        return {"result": "ignored"}
    with context.db.write() as session:
        # A client statement's payment request (its own "stmt-" reference), not a top-up.
        requested = apply_payment_event(session, gateway.name, event, utcnow())
        if requested is not None:
            return {"result": requested}
        top_up = topups.find_by_payment(session, gateway.name, event.gateway_payment_id)
        if top_up is None and event.top_up_id:
            try:
                top_up = topups.find(session, event.top_up_id)
            except LedgerError:
                top_up = None
        if top_up is None or top_up.gateway != gateway.name:
            record(session, gateway.name, "topup.webhook_unknown", event.gateway_payment_id,
                   {"event_id": event.event_id})
            return {"result": "unknown_payment"}
        if event.kind == "failed":
            topups.fail_top_up(session, top_up, event_id=event.event_id, source="webhook")
            return {"result": "failed"}
        outcome = topups.settle_top_up(session, top_up, amount=event.amount,
                                       currency=event.currency,
                                       gateway_payment_id=event.gateway_payment_id,
                                       event_id=event.event_id, fee=event.fee,
                                       source="webhook")
        return {"result": outcome.result}
