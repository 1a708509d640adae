"""POST /vouchers/redeem: a voucher code typed or scanned at the kiosk, for the session's
user.

The answer to a refusal is a problem with a stable code (``voucher_typo`` ...; see
docs/api.md). A typo is refused before the database is asked and never counts as a
guess; every other answer comes out of one write transaction, which takes the
terminal's lock and then the user's (``backend.voucher_limits``), records a guess or a
lockout when there is one, and remembers the answer under the idempotency key: a retry
returns the first answer, a success as a success (never ``voucher_redeemed``). Only a
``voucher_rate_limited`` answer is not remembered: it says "later", not "never".
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from backend import ledger, vouchers
from backend.api.deps import Context, CurrentTerminal, SessionToken, problem_from, session_user
from backend.api.schemas import VoucherRedeemRequest
from backend.idempotency import remember, replay
from backend.ledger import LedgerError
from backend.money import fmt
from backend.problems import PROBLEM_JSON, ApiProblem, problem_response
from backend.voucher_limits import GuessLimits, lock_terminal

router = APIRouter(tags=["vouchers"])

STATUS_OF_REFUSAL = {
    "voucher_typo": 422,
    "voucher_unknown": 404,
    "voucher_redeemed": 409,
    "voucher_not_sold": 409,
    "voucher_currency": 409,
    "voucher_expired": 410,
    "voucher_revoked": 410,
    "voucher_rate_limited": 429,
}
_TITLES = {
    "voucher_typo": "Check the code",
    "voucher_unknown": "Unknown voucher",
    "voucher_redeemed": "Voucher already redeemed",
    "voucher_not_sold": "Voucher not sold",
    "voucher_currency": "Voucher in another currency",
    "voucher_expired": "Voucher expired",
    "voucher_revoked": "Voucher revoked",
    "voucher_rate_limited": "Too many unknown codes",
}


def _problem(refusal: vouchers.Refusal) -> ApiProblem:
    headers = ({"Retry-After": str(refusal.retry_after_s)}
               if refusal.retry_after_s is not None else None)
    return ApiProblem(STATUS_OF_REFUSAL[refusal.code], refusal.code, _TITLES[refusal.code],
                      refusal.detail, headers=headers, **refusal.extra)


def _answer(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status,
                        media_type=PROBLEM_JSON if status >= 400 else None)


@router.post("/vouchers/redeem")
def redeem_voucher(body: VoucherRedeemRequest, context: Context, terminal: CurrentTerminal,
                   session_token: SessionToken = None) -> JSONResponse:
    """Redeem a voucher for the user whose session this is: its value goes to their
    personal credit."""
    user_id = session_user(context, terminal, session_token)
    typed = vouchers.check_typed(body.code)
    if isinstance(typed, vouchers.Refusal):
        raise _problem(typed)
    # The fingerprint of the request holds the code's keyed hash, never the code.
    request = {"voucher": vouchers.code_hash(context.secret, typed)}
    settings = context.config.vouchers
    limits = GuessLimits.from_settings(settings)
    # The terminal's lock also serialises two sends of one idempotency key (they come
    # from one terminal), so the second always finds the first's record.
    try:
        with context.db.write() as session:
            lock_terminal(session, terminal.id)
            user = ledger.lock_user(session, user_id)
            previous = replay(session, terminal.id, body.idempotency_key, "voucher", request)
            if previous is not None:
                return _answer(*previous)
            outcome = vouchers.redeem(session, context.secret, user=user,
                                      terminal_id=terminal.id, body=typed,
                                      currency=context.currency, limits=limits,
                                      timezone=settings.timezone)
            if isinstance(outcome, vouchers.Refusal):
                problem = _problem(outcome)
                if outcome.code != "voucher_rate_limited":
                    remember(session, terminal.id, body.idempotency_key, "voucher", request,
                             problem.status, problem.body())
                response = None  # committed all the same: the guess or the lockout
            else:
                problem = None
                response = {
                    "voucher": {"batch": outcome.batch.public_id,
                                "serial": outcome.voucher.serial,
                                "value": fmt(outcome.batch.value),
                                "currency": outcome.batch.currency,
                                "expires_on": outcome.batch.expires_on.isoformat()},
                    "credited": fmt(outcome.batch.value),
                    "balance": ledger.balance(session, user, context.currency).as_json(),
                    "transaction_id": outcome.transaction.id,
                }
                remember(session, terminal.id, body.idempotency_key, "voucher", request,
                         200, response)
    except LedgerError as exc:
        raise problem_from(exc) from exc
    if problem is not None:
        return problem_response(problem)
    return JSONResponse(response)
