"""GET / PUT /users/{username}/notifications: the user's notification preferences.

User-scoped like the balance: only with the user's own session at this terminal
(``X-Printkiosk-Session``), so a terminal token alone cannot read or change anyone's
choices. A change is audited as the user's own (``user:<name>``) from this terminal.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from backend.api.deps import Context, CurrentTerminal, SessionToken, require_user_session
from backend.api.schemas import NotificationPreferencesRequest
from backend.me_account import actor_of
from backend.models import User
from backend.notify import preferences

router = APIRouter(tags=["notifications"])


@router.get("/users/{username}/notifications")
def read_preferences(username: str, context: Context, terminal: CurrentTerminal,
                     session_token: SessionToken = None) -> dict[str, Any]:
    """The effective preferences: the user's choices, else the site's defaults."""
    require_user_session(context, terminal, session_token, username)
    with context.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None  # their session exists
        return preferences.read(session, user, context.config.notifications).as_json()


@router.put("/users/{username}/notifications")
def change_preferences(username: str, body: NotificationPreferencesRequest,
                       context: Context, terminal: CurrentTerminal,
                       session_token: SessionToken = None) -> dict[str, Any]:
    """Save the choices (idempotent: the same body twice changes nothing the second
    time) and answer the effective preferences."""
    require_user_session(context, terminal, session_token, username)
    with context.db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        preferences.change(session, user, low_balance_enabled=body.low_balance_enabled,
                           low_balance_threshold=body.low_balance_threshold,
                           transactions_enabled=body.transactions_enabled,
                           actor=actor_of(user.username), origin=f"terminal:{terminal.id}")
        return preferences.read(session, user, context.config.notifications).as_json()
