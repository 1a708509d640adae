"""POST /sessions (card or username + PIN) and GET /users/{username}/balance.

An identification opens a user session at this terminal: its token, returned once as
``session.token``, is what every user-scoped call must carry (``X-Printkiosk-Session``),
so a terminal token alone cannot read or spend anyone's credit. Logins are rate-limited
per terminal (``[sessions]`` in backend.toml, see ``backend.rate_limits``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from backend import identify, terminal_sessions
from backend.api.deps import (
    Context,
    CurrentTerminal,
    SessionToken,
    problem_from,
    rate_limited,
    require_user_session,
)
from backend.api.schemas import SessionRequest
from backend.context import BackendContext
from backend.ledger import LedgerError, balance
from backend.models import Terminal, User
from backend.problems import ApiProblem

router = APIRouter(tags=["sessions"])


def user_json(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "language": user.language,
        "groups": sorted(group.name for group in user.groups),
        # what the account may do beyond printing (``technician``: technician mode)
        "roles": user.roles,
    }


def session_json(context: BackendContext, terminal: Terminal, user_id: int) -> dict[str, Any]:
    """Open the user's session at this terminal: the ``session`` member of the answer."""
    with context.db.write() as session:
        token = terminal_sessions.start(session, context.secret, terminal.id, user_id)
    return {"token": token, "idle_timeout_s": context.config.sessions.idle_timeout_s}


@router.post("/sessions")
def open_session(body: SessionRequest, context: Context,
                 terminal: CurrentTerminal) -> dict[str, Any]:
    """Identify the person at the terminal and return who they are, their balance and
    the session token of their user-scoped calls."""
    by_card = body.card is not None
    if by_card == (body.username is not None) or (body.username is not None) != (
            body.pin is not None):
        raise ApiProblem(422, "invalid_request", "Invalid request",
                         "give either card, or username and pin")
    rate_limited(context.limits.logins, terminal, "logins")
    answer: dict[str, Any]
    try:
        if body.card is not None:
            with context.db.read() as session:
                user = identify.by_card(session, context.secret, body.card)
                answer = {"user": user_json(user),
                          "balance": balance(session, user, context.currency).as_json()}
                user_id = user.id
        else:
            assert body.username is not None and body.pin is not None
            security = context.config.security
            # Checks the PIN with no transaction open, then records the attempt (identify).
            user_id = identify.by_pin(context.db, context.secret, body.username, body.pin,
                                      security.pin_max_attempts, security.pin_lockout_s)
            with context.db.read() as session:
                user = session.get_one(User, user_id)
                answer = {"user": user_json(user),
                          "balance": balance(session, user, context.currency).as_json()}
    except LedgerError as exc:
        raise problem_from(exc) from exc
    answer["session"] = session_json(context, terminal, user_id)
    return answer


@router.get("/users/{username}/balance")
def user_balance(username: str, context: Context, terminal: CurrentTerminal,
                 session_token: SessionToken = None) -> dict[str, str]:
    """The user's balance; only with their session, so that the answer says nothing
    about whether a user name exists."""
    require_user_session(context, terminal, session_token, username)
    with context.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None  # their session exists
        return balance(session, user, context.currency).as_json()
