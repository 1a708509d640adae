"""FastAPI dependencies: the backend context and the calling terminal (Bearer token)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.exc import SQLAlchemyError

from backend import terminal_sessions
from backend.context import BackendContext
from backend.ledger import LedgerError
from backend.models import Terminal
from backend.problems import ApiProblem
from backend.rate_limits import TokenBucket
from backend.terminals import authenticate, needs_touch, touch


def get_context(request: Request) -> BackendContext:
    context: BackendContext = request.app.state.context
    return context


Context = Annotated[BackendContext, Depends(get_context)]


def current_terminal(request: Request, context: Context) -> Terminal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(401, "terminal_unauthorized", "Terminal not authorised",
                         "missing Authorization: Bearer <terminal token>")
    try:
        return _seen(context, token.strip())
    except LedgerError as exc:
        raise problem_from(exc) from exc


def _seen(context: BackendContext, token: str) -> Terminal:
    """The token's terminal, its ``last_seen_at`` moved on (at most once per
    ``LAST_SEEN_RESOLUTION``, so that every request does not write)."""
    with context.db.read() as session:
        terminal = authenticate(session, context.secret, token)
    if needs_touch(terminal):
        with context.db.write() as session:
            touch(session, terminal)
    return terminal


CurrentTerminal = Annotated[Terminal, Depends(current_terminal)]


def note_heartbeat(request: Request, context: Context) -> None:
    """A kiosk's heartbeat (``GET /health``) carries its token: count it as the kiosk
    seen, so an idle kiosk is not taken for a silent one (backend.notify.devices). The
    answer stays the same whatever the token (no oracle for guessing one), and a database
    that does not answer is the health check's business, not an error here."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return
    try:
        _seen(context, token.strip())
    except (LedgerError, SQLAlchemyError):
        return

SESSION_HEADER = "X-Printkiosk-Session"
# The user session a card or PIN opened at this terminal (POST /sessions "session").
SessionToken = Annotated[str | None, Header(
    alias=SESSION_HEADER, min_length=1, max_length=100,
    description="the user's session token from POST /sessions; required by every "
                "user-scoped call")]


def idle_timeout(context: BackendContext) -> timedelta:
    return timedelta(seconds=context.config.sessions.idle_timeout_s)


def require_user_session(context: BackendContext, terminal: Terminal, token: str | None,
                         username: str) -> None:
    """Refuse the call unless ``token`` is a live session of ``username`` opened at this
    terminal (401 missing, unknown, ended or expired; 403 another terminal's or user's).
    An unknown user and a known one without session answer alike."""
    try:
        with context.db.read() as session:
            found = terminal_sessions.require(session, context.secret, terminal.id, token,
                                              username, idle_timeout(context))
        if found.needs_touch:
            with context.db.write() as session:
                terminal_sessions.touch(session, found.id)
    except LedgerError as exc:
        raise problem_from(exc) from exc


def session_user(context: BackendContext, terminal: Terminal, token: str | None) -> int:
    """The id of the user whose live session at this terminal ``token`` is (401 when
    missing, unknown, ended or expired; 403 another terminal's): for calls that act for
    the session's user and name nobody in their body."""
    try:
        if token is None:
            raise LedgerError("session_required", "this call needs the user's session "
                              "(X-Printkiosk-Session from POST /sessions)")
        with context.db.read() as session:
            found = terminal_sessions.find(session, context.secret, terminal.id, token,
                                           idle_timeout(context))
        if found.needs_touch:
            with context.db.write() as session:
                terminal_sessions.touch(session, found.id)
    except LedgerError as exc:
        raise problem_from(exc) from exc
    return found.user_id


def rate_limited(bucket: TokenBucket, terminal: Terminal, what: str) -> None:
    """429 with Retry-After when this terminal went over its rate for ``what``."""
    wait_s = bucket.take(terminal.id)
    if wait_s is not None:
        raise ApiProblem(429, "rate_limited", "Too many requests",
                         f"too many {what} from this terminal; retry in {wait_s} s",
                         headers={"Retry-After": str(wait_s)})

# HTTP status of each ledger / service refusal code.
STATUS_OF_CODE: dict[str, int] = {
    "card_unknown": 404,
    "user_unknown": 404,
    "hold_unknown": 404,
    "transaction_unknown": 404,
    "terminal_unknown": 404,
    "billing_code_unknown": 404,
    "job_analysis_unknown": 404,
    "pin_invalid": 401,
    "session_required": 401,
    "session_unknown": 401,
    "session_expired": 401,
    "session_ended": 401,
    "session_other_terminal": 403,
    "session_other_user": 403,
    "offline_limit_exceeded": 403,
    "terminal_unauthorized": 401,
    "terminal_revoked": 401,
    "pin_locked": 429,
    "user_disabled": 403,
    "hold_other_terminal": 403,
    "enrolment_key_invalid": 403,
    "enrolment_key_used": 409,
    "insufficient_funds": 409,
    "hold_settled": 409,
    "capture_exceeds_hold": 409,
    "refund_exceeds_charge": 409,
    "not_refundable": 409,
    "idempotency_key_reused": 409,
    "card_already_enrolled": 409,
    "job_analysis_exists": 409,
    "balance_limit": 409,
    "amount_invalid": 422,
    "card_invalid": 422,
    "reason_required": 422,
    "topup_unknown": 404,
    "topup_settled": 409,
    "refund_exceeds_credit": 409,
    "print3d_not_configured": 404,
    "print3d_group_unknown": 404,
    "print3d_job_unknown": 404,
    "print3d_not_ready": 409,
    "print3d_not_claimed": 409,
    "print3d_flagged": 409,
    "print3d_hold_invalid": 409,
    "print3d_too_many_jobs": 409,
    "print3d_not_priced": 422,
    "not_a_technician": 403,
    "role_unknown": 422,
}


def problem_from(error: LedgerError) -> ApiProblem:
    status = STATUS_OF_CODE.get(error.code, 400)
    title = error.code.replace("_", " ").capitalize()
    return ApiProblem(status, error.code, title, error.detail)
