"""POST /sessions (card or username + PIN) and GET /users/{username}/balance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from backend import identify
from backend.api.deps import Context, CurrentTerminal, problem_from
from backend.api.schemas import SessionRequest
from backend.ledger import LedgerError, balance
from backend.models import User
from backend.problems import ApiProblem

router = APIRouter(tags=["sessions"])


def user_json(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "language": user.language,
        "groups": sorted(group.name for group in user.groups),
    }


@router.post("/sessions")
def open_session(body: SessionRequest, context: Context,
                 _terminal: CurrentTerminal) -> dict[str, Any]:
    """Identify the person at the terminal and return who they are and their balance."""
    by_card = body.card is not None
    if by_card == (body.username is not None) or (body.username is not None) != (
            body.pin is not None):
        raise ApiProblem(422, "invalid_request", "Invalid request",
                         "give either card, or username and pin")
    try:
        if body.card is not None:
            with context.db.read() as session:
                user = identify.by_card(session, context.secret, body.card)
                return {"user": user_json(user),
                        "balance": balance(session, user, context.currency).as_json()}
        assert body.username is not None and body.pin is not None
        security = context.config.security
        # Checks the PIN with no transaction open, then records the attempt (identify).
        user_id = identify.by_pin(context.db, context.secret, body.username, body.pin,
                                  security.pin_max_attempts, security.pin_lockout_s)
        with context.db.read() as session:
            user = session.get_one(User, user_id)
            return {"user": user_json(user),
                    "balance": balance(session, user, context.currency).as_json()}
    except LedgerError as exc:
        raise problem_from(exc) from exc


@router.get("/users/{username}/balance")
def user_balance(username: str, context: Context, _terminal: CurrentTerminal) -> dict[str, str]:
    with context.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise ApiProblem(404, "user_unknown", "User unknown", f"no user {username!r}")
        return balance(session, user, context.currency).as_json()
