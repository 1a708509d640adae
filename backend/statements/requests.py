"""Payment requests (seed 004): an issued statement sent by e-mail with a payment link.

The link is a payment created through the top-up gateway (backend/payments/gateway.py)
under the request's own reference, ``stmt-<hex>``, which the gateway echoes back in its
webhook (Stripe: the metadata ``top_up_id`` field the top-ups use): the webhook
endpoint asks :func:`apply_payment_event` first, and a top-up never has that prefix. The
statement becomes paid only from a verified webhook, once: a replay finds the request
paid and changes nothing. Mails go through the outbox (``statement_payment_request``,
``statement_payment_reminder``); each reminder day's dedupe key makes it go out exactly
once, even with several backend processes running the schedule.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import record
from backend.models import Client, PaymentRequest, Statement
from backend.notify import outbox
from backend.payments.gateway import CreatedPayment, PaymentEvent, PaymentGateway
from backend.statements.errors import StatementError
from backend.statements.status import change

PREFIX = "stmt-"
REQUEST_MAIL = "statement_payment_request"
REMINDER_MAIL = "statement_payment_reminder"
PAYABLE = ("issued", "overdue")


def new_reference() -> str:
    return PREFIX + uuid.uuid4().hex[:20]


def check_payable(session: Session, statement: Statement) -> Client:
    """The client to mail, or :class:`StatementError` saying why the request cannot go."""
    client = session.get(Client, statement.client_id)
    assert client is not None
    if statement.status not in PAYABLE:
        raise StatementError(f"statement {statement.number} is {statement.status}: only an "
                             "issued or overdue statement can be sent for payment")
    if statement.transferred_to_id is not None:
        raise StatementError(f"statement {statement.number} is carried by its parent's "
                             "statement: send that one")
    if statement.total <= 0:
        raise StatementError(f"statement {statement.number} totals {statement.total}: "
                             "nothing to pay")
    if not client.email:
        raise StatementError(f"client {client.code} has no e-mail address")
    if open_request(session, statement) is not None:
        raise StatementError(f"statement {statement.number} already has an open payment "
                             "request: cancel it first to send a new one")
    return client


def open_request(session: Session, statement: Statement) -> PaymentRequest | None:
    return session.scalar(select(PaymentRequest).where(
        PaymentRequest.statement_id == statement.id, PaymentRequest.status == "open"))


def send_request(session: Session, statement: Statement, gateway: PaymentGateway, *,
                 base_url: str, actor: str, now: datetime,
                 origin: str | None = None) -> PaymentRequest:
    """Create the gateway payment and record the request and its mail.

    The gateway is called inside the caller's transaction, with the statement locked, so
    two clicks cannot create two requests; if the gateway fails nothing is recorded, and
    a payment it created whose recording then fails is never sent to anyone (no money
    moves until a client pays it)."""
    check_payable(session, statement)
    reference = new_reference()
    created = gateway.create_payment(reference, statement.total, statement.currency,
                                     f"Statement {statement.number}",
                                     f"{base_url.rstrip('/')}/")
    return record_request(session, statement, gateway.name, created, reference=reference,
                          actor=actor, now=now, origin=origin)


def record_request(session: Session, statement: Statement, gateway_name: str,
                   created: CreatedPayment, *, reference: str, actor: str, now: datetime,
                   origin: str | None = None) -> PaymentRequest:
    """Record a request whose payment the gateway created under ``reference``."""
    client = check_payable(session, statement)
    assert client.email is not None
    request = PaymentRequest(statement_id=statement.id, reference=reference,
                             gateway=gateway_name,
                             gateway_payment_id=created.gateway_payment_id,
                             pay_url=created.pay_url, to_address=client.email,
                             status="open", amount=statement.total,
                             currency=statement.currency, sent_at=now)
    session.add(request)
    session.flush()
    outbox.record(session, kind=REQUEST_MAIL, to_address=client.email,
                  language=client.language, context=_mail(statement, client, request),
                  dedupe_key=f"{REQUEST_MAIL}:{reference}")
    record(session, actor, "statement.payment_requested", f"statement:{statement.number}",
           {"reference": reference, "to": client.email, "amount": str(statement.total)},
           at=now, origin=origin)
    return request


def _mail(statement: Statement, client: Client, request: PaymentRequest,
          **extra: Any) -> dict[str, Any]:
    return {"client_name": client.name, "number": statement.number,
            "amount": str(statement.total), "currency": statement.currency,
            "period_start": statement.period_start.isoformat(),
            "period_end": (statement.period_end - timedelta(days=1)).isoformat(),
            "due_date": statement.due_date.isoformat() if statement.due_date else None,
            "pay_url": request.pay_url, "reference": request.reference, **extra}


def send_reminders(session: Session, now: datetime, days: list[int]) -> int:
    """Record the reminders due by ``now`` for open requests of unpaid statements; the
    number recorded (a reminder recorded before is not recorded again)."""
    recorded = 0
    rows = session.execute(select(PaymentRequest, Statement, Client)
                           .join(Statement, Statement.id == PaymentRequest.statement_id)
                           .join(Client, Client.id == Statement.client_id)
                           .where(PaymentRequest.status == "open",
                                  Statement.status.in_(PAYABLE))).tuples().all()
    for request, statement, client in rows:
        for day in days:
            if request.sent_at + timedelta(days=day) > now:
                break
            if outbox.record(session, kind=REMINDER_MAIL, to_address=request.to_address,
                             language=client.language,
                             context=_mail(statement, client, request, days=day),
                             dedupe_key=f"{REMINDER_MAIL}:{request.reference}:{day}"):
                recorded += 1
    return recorded


def cancel_request(session: Session, statement: Statement, *, actor: str, now: datetime,
                   origin: str | None = None) -> PaymentRequest:
    request = open_request(session, statement)
    if request is None:
        raise StatementError(f"statement {statement.number} has no open payment request")
    request.status, request.cancelled_at = "cancelled", now
    record(session, actor, "statement.payment_request_cancelled",
           f"statement:{statement.number}", {"reference": request.reference}, at=now,
           origin=origin)
    return request


def apply_payment_event(session: Session, gateway_name: str, event: PaymentEvent,
                        now: datetime) -> str | None:
    """The outcome of a verified webhook about a payment request, or None when the event
    is not about one (then it is a top-up's)."""
    request = session.scalar(select(PaymentRequest).where(
        PaymentRequest.gateway == gateway_name,
        PaymentRequest.gateway_payment_id == event.gateway_payment_id).with_for_update())
    if request is None and event.top_up_id and event.top_up_id.startswith(PREFIX):
        request = session.scalar(select(PaymentRequest).where(
            PaymentRequest.gateway == gateway_name,
            PaymentRequest.reference == event.top_up_id).with_for_update())
    if request is None:
        return "unknown_payment" if (event.top_up_id or "").startswith(PREFIX) else None
    statement = session.get(Statement, request.statement_id, with_for_update=True)
    assert statement is not None
    subject = f"statement:{statement.number}"
    if request.status == "paid":
        return "duplicate"
    if event.kind == "failed":
        record(session, f"gateway:{gateway_name}", "statement.payment_failed", subject,
               {"reference": request.reference, "event": event.event_id}, at=now)
        return "failed"
    if event.amount != request.amount or event.currency != request.currency:
        record(session, f"gateway:{gateway_name}", "statement.payment_mismatch", subject,
               {"reference": request.reference, "event": event.event_id,
                "paid": f"{event.amount} {event.currency}",
                "asked": f"{request.amount} {request.currency}"}, at=now)
        return "mismatch"
    request.status, request.paid_at, request.paid_event_id = "paid", now, event.event_id
    if request.gateway_payment_id is None:
        request.gateway_payment_id = event.gateway_payment_id
    if statement.status in PAYABLE:
        change(session, statement, "paid", actor=f"gateway:{gateway_name}", now=now)
        return "paid"
    # Paid after the statement was cancelled or paid otherwise: kept for a refund.
    record(session, f"gateway:{gateway_name}", "statement.paid_when_not_payable", subject,
           {"reference": request.reference, "status": statement.status}, at=now)
    return "paid_not_payable"
