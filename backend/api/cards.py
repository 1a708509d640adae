"""POST /cards/enrol: a user at the kiosk links an unknown card to their account after
proving who they are with username + PIN (the same PIN rules and lockout as sessions).
It opens a session like a login; enrolments are rate-limited per terminal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select

from backend import identify
from backend.api.deps import Context, CurrentTerminal, problem_from, rate_limited
from backend.api.schemas import CardEnrolRequest
from backend.api.sessions import session_json, user_json
from backend.audit import record
from backend.ledger import LedgerError, balance
from backend.models import Card, User
from backend.security import card_hash, normalise_card

router = APIRouter(tags=["cards"])


@router.post("/cards/enrol", status_code=201)
def enrol_card(body: CardEnrolRequest, context: Context,
               terminal: CurrentTerminal) -> JSONResponse:
    security = context.config.security
    if not normalise_card(body.card):
        raise problem_from(LedgerError("card_invalid", "the card number is empty"))
    rate_limited(context.limits.card_enrolments, terminal, "card enrolments")
    try:
        # The PIN is checked with no transaction open (identify.by_pin records the attempt).
        user_id = identify.by_pin(context.db, context.secret, body.username, body.pin,
                                  security.pin_max_attempts, security.pin_lockout_s)
        with context.db.write() as session:
            user = session.get_one(User, user_id)
            digest = card_hash(context.secret, body.card)
            existing = session.scalar(select(Card).where(Card.card_hash == digest))
            if existing is not None and existing.user_id != user.id:
                raise LedgerError("card_already_enrolled", "this card belongs to another user")
            if existing is None:
                session.add(Card(user_id=user.id, card_hash=digest, label="self-enrolled"))
                record(session, f"terminal:{terminal.id}", "card.self_enrol", user.username)
            answer: dict[str, Any] = {
                "user": user_json(user),
                "balance": balance(session, user, context.currency).as_json()}
    except LedgerError as exc:
        raise problem_from(exc) from exc
    answer["session"] = session_json(context, terminal, user_id)
    return JSONResponse(answer, status_code=201)
