"""Authorise / capture / void for job release, and refunds.

POST /holds                  hold the estimate (refused if the user cannot afford it)
POST /holds/{id}/capture     charge the real amount (<= the hold), release the rest
POST /holds/{id}/void        release the whole hold (job cancelled before printing)
POST /refunds                give back all or part of a charge made through this terminal

A hold is user-scoped: it carries the user's session (``X-Printkiosk-Session``). A hold
without a live session — decided by the kiosk while offline, or whose session expired
before the kiosk's outbox drained — is an *offline hold*: accepted only within the
terminal's offline limit (``backend.offline_holds``), marked ``offline`` and audited.
Captures, voids and refunds name a hold this terminal took, so they need no session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import billing_codes, ledger, offline_holds
from backend.api.deps import Context, CurrentTerminal, SessionToken, problem_from
from backend.api.schemas import CaptureRequest, HoldRequest, RefundRequest, VoidRequest
from backend.api.writes import idempotent_write
from backend.ledger import LedgerError
from backend.models import BillingCode, Hold, LedgerTransaction, User
from backend.money import fmt
from backend.problems import ApiProblem

router = APIRouter(tags=["holds"])


def _body(model: BaseModel) -> dict[str, Any]:
    return dict(model.model_dump(mode="json", exclude={"idempotency_key"}))


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise LedgerError("user_unknown", f"no user {username!r}")
    return user


def _lock_hold_owner(hold_id: str) -> Callable[[Session], User]:
    def lock(session: Session) -> User:
        hold = session.get(Hold, hold_id)
        if hold is None:
            raise LedgerError("hold_unknown", f"no hold {hold_id}")
        return ledger.lock_user(session, hold.user_id)
    return lock


def _code_of(session: Session, billing_code_id: int | None) -> str | None:
    code = session.get(BillingCode, billing_code_id) if billing_code_id is not None else None
    return code.code if code is not None else None


def _hold_json(hold: Hold, session: Session, currency: str) -> dict[str, Any]:
    user = session.get(User, hold.user_id)
    assert user is not None
    return {
        "hold_id": hold.id,
        "status": hold.status,
        "username": user.username,
        "amount": fmt(hold.amount),
        "captured": None if hold.captured_amount is None else fmt(hold.captured_amount),
        "released": None if hold.captured_amount is None
        else fmt(hold.amount - hold.captured_amount),
        "description": hold.description,
        "job_ref": hold.job_ref,
        "billing_code": _code_of(session, hold.billing_code_id),
        # Who pays: "user" (the balance below) or "code" (the code's client is invoiced;
        # the user's balance is untouched).
        "payer": hold.payer,
        # Taken with no live session of the user: within the terminal's offline limit.
        "offline": hold.offline,
        "balance": ledger.balance(session, user, currency).as_json(),
    }


@router.post("/holds", status_code=201)
def create_hold(body: HoldRequest, context: Context, terminal: CurrentTerminal,
                session_token: SessionToken = None) -> JSONResponse:
    try:
        with context.db.read() as session:
            presented = offline_holds.presented(session, context, terminal, session_token,
                                                body.username)
    except LedgerError as exc:
        raise problem_from(exc) from exc

    def lock(session: Session) -> User:
        return ledger.lock_user(session, _user(session, body.username).id)

    def effect(session: Session, user: User) -> dict[str, Any]:
        code_id = None
        payer: ledger.Payer = "user"
        if body.billing_code is not None:
            code = billing_codes.find_usable(session, user, body.billing_code)
            if code is None:
                raise LedgerError("billing_code_unknown",
                                  f"{body.billing_code!r} is not a code {user.username} may use")
            code_id = code.id
            payer = billing_codes.effective_payer(session, code)
        if presented.offline_reason is not None:
            offline_holds.check_limit(session, context, terminal, user, body.amount)
        hold = ledger.authorise(session, user, terminal.id, context.currency, body.amount,
                                body.description, body.job_ref, code_id, payer)
        offline_holds.note(session, terminal, hold, presented)
        return _hold_json(hold, session, context.currency)

    return idempotent_write(context, terminal.id, body.idempotency_key, "hold", _body(body),
                            lock, effect, status=201)


@router.post("/holds/{hold_id}/capture")
def capture_hold(hold_id: str, body: CaptureRequest, context: Context,
                 terminal: CurrentTerminal) -> JSONResponse:
    def effect(session: Session, _user: User) -> dict[str, Any]:
        details = body.model_dump(mode="json", exclude={"idempotency_key", "amount"},
                                  exclude_none=True)
        sides = None if body.pages is None else (
            body.pages - (body.colour_pages or 0), body.colour_pages or 0)
        charge = ledger.capture(session, hold_id, terminal.id, context.currency, body.amount,
                                context.config.ledger.consumption_order, details or None,
                                sides)
        hold = session.get(Hold, hold_id)
        assert hold is not None
        if hold.billing_code_id is not None:
            billing_codes.note_use(session, hold.user_id, hold.billing_code_id)
        answer = _hold_json(hold, session, context.currency)
        answer["transaction_id"] = None if charge is None else charge.id
        return answer

    return idempotent_write(context, terminal.id, body.idempotency_key, f"capture:{hold_id}",
                            _body(body), _lock_hold_owner(hold_id), effect)


@router.post("/holds/{hold_id}/void")
def void_hold(hold_id: str, body: VoidRequest, context: Context,
              terminal: CurrentTerminal) -> JSONResponse:
    def effect(session: Session, _user: User) -> dict[str, Any]:
        hold = ledger.void(session, hold_id, terminal.id)
        return _hold_json(hold, session, context.currency)

    return idempotent_write(context, terminal.id, body.idempotency_key, f"void:{hold_id}",
                            _body(body), _lock_hold_owner(hold_id), effect)


def _charge_of(session: Session, body: RefundRequest, terminal_id: str) -> LedgerTransaction:
    query = select(LedgerTransaction).where(LedgerTransaction.kind == "charge")
    if body.transaction_id is not None:
        query = query.where(LedgerTransaction.id == body.transaction_id)
    else:
        query = query.where(LedgerTransaction.hold_id == body.hold_id)
    charge = session.scalar(query)
    if charge is None:
        raise LedgerError("transaction_unknown", "no charge matches hold_id / transaction_id")
    if charge.terminal_id != terminal_id:
        raise LedgerError("hold_other_terminal", "the charge was made by another terminal")
    return charge


@router.post("/refunds", status_code=201)
def create_refund(body: RefundRequest, context: Context,
                  terminal: CurrentTerminal) -> JSONResponse:
    if (body.hold_id is None) == (body.transaction_id is None):
        raise ApiProblem(422, "invalid_request", "Invalid request",
                         "give exactly one of hold_id or transaction_id")

    def lock(session: Session) -> tuple[LedgerTransaction, User]:
        charge = _charge_of(session, body, terminal.id)
        assert charge.user_id is not None
        return charge, ledger.lock_user(session, charge.user_id)

    def effect(session: Session, locked: tuple[LedgerTransaction, User]) -> dict[str, Any]:
        charge, user = locked
        refund = ledger.refund(session, charge, body.amount, body.reason,
                               terminal_id=terminal.id, actor=f"terminal:{terminal.id}")
        amount = sum((entry.amount for entry in refund.entries if entry.amount > 0),
                     ledger.ZERO)
        return {
            "transaction_id": refund.id,
            "refund_of": charge.id,
            "hold_id": charge.hold_id,
            "amount": fmt(amount),
            "reason": body.reason,
            "balance": ledger.balance(session, user, context.currency).as_json(),
        }

    return idempotent_write(context, terminal.id, body.idempotency_key, "refund", _body(body),
                            lock, effect, status=201)

