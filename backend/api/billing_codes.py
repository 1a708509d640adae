"""Billing-code search (by code or name prefix) and a user's recent codes, for the kiosk's
"charge to" picker. Both are user-scoped: they need the user's session."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import billing_codes
from backend.api.deps import Context, CurrentTerminal, SessionToken, require_user_session
from backend.models import User
from backend.problems import ApiProblem

router = APIRouter(tags=["billing codes"])


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise ApiProblem(404, "user_unknown", "User unknown", f"no user {username!r}")
    return user


@router.get("/billing-codes")
def search_codes(
    username: str, context: Context, terminal: CurrentTerminal,
    q: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    session_token: SessionToken = None,
) -> dict[str, Any]:
    require_user_session(context, terminal, session_token, username)
    with context.db.read() as session:
        user = _user(session, username)
        codes = billing_codes.usable_codes(session, user, q, limit)
        return {"codes": [billing_codes.code_json(code, session) for code in codes]}


@router.get("/users/{username}/billing-codes/recent")
def recent_codes(username: str, context: Context, terminal: CurrentTerminal,
                 limit: Annotated[int, Query(ge=1, le=20)] = 5,
                 session_token: SessionToken = None) -> dict[str, Any]:
    require_user_session(context, terminal, session_token, username)
    with context.db.read() as session:
        user = _user(session, username)
        codes = billing_codes.recent_codes(session, user, limit)
        return {"codes": [billing_codes.code_json(code, session) for code in codes]}
