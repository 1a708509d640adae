"""GET /price-list and POST /estimate: the prices that apply to a user at this terminal.

The list is chosen by billing's precedence (user, cost centre, group, device, device
model, default) for today; the estimate is billing's, including the period volume the
user already printed (for included pages and tiers) and the cheaper mono / duplex
alternatives the kiosk offers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api.deps import Context, CurrentTerminal, SessionToken, require_user_session
from backend.api.schemas import EstimateRequest, PaperJobSpec, Print3DJobSpec
from backend.context import BackendContext
from backend.models import Terminal, User
from backend.pricing import PriceCatalogue, context_for, period_volume
from backend.problems import ApiProblem
from billing import (
    Colour,
    Function,
    Job,
    Line,
    MediaSize,
    NoPriceList,
    PaperJob,
    PriceList,
    PricingError,
    Print3DJob,
    estimate,
)

router = APIRouter(tags=["pricing"])


def _catalogue(context: BackendContext) -> PriceCatalogue:
    if context.prices is None:
        raise ApiProblem(404, "pricing_not_configured", "Pricing not configured",
                         "the backend has no pricing.price_lists_dir")
    return context.prices


def _user(session: Session, username: str | None) -> User | None:
    if username is None:
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise ApiProblem(404, "user_unknown", "User unknown", f"no user {username!r}")
    return user


def _select(catalogue: PriceCatalogue, session: Session, user: User | None,
            terminal: Terminal) -> PriceList:
    terminal_row = session.get(Terminal, terminal.id) or terminal
    try:
        return catalogue.book.select(context_for(session, user, terminal_row), date.today())
    except NoPriceList as exc:
        raise ApiProblem(404, "price_list_missing", "No price list", str(exc)) from exc


@router.get("/price-list")
def price_list(context: Context, terminal: CurrentTerminal,
               username: str | None = None,
               session_token: SessionToken = None) -> dict[str, Any]:
    """The list in force for this user (or anyone) here, with its source TOML and the
    user's volume so far this period, so the kiosk prices with billing exactly as the
    backend does (included pages and tiers depend on that volume). For a user, only
    with their session."""
    if username is not None:
        require_user_session(context, terminal, session_token, username)
    catalogue = _catalogue(context)
    with context.db.read() as session:
        user = _user(session, username)
        chosen = _select(catalogue, session, user, terminal)
        volume = (period_volume(session, user, catalogue.periods, date.today())
                  if user is not None else None)
    source = catalogue.source_of(chosen)
    return {
        "name": chosen.name,
        "currency": chosen.currency,
        "scope": {"kind": chosen.scope.kind.value, "target": chosen.scope.target or None},
        "effective_from": chosen.effective_from.isoformat(),
        "filename": source.filename,
        "format": "printkiosk-price-list-toml",
        "toml": source.text,
        "period_volume": None if volume is None
        else {"mono": volume.mono, "colour": volume.colour},
    }


def _job(body: EstimateRequest) -> Job:
    if (body.paper is None) == (body.print3d is None):
        raise ApiProblem(422, "invalid_request", "Invalid request",
                         "give exactly one of paper or print3d")
    if body.print3d is not None:
        spec3d: Print3DJobSpec = body.print3d
        return Print3DJob(spec3d.material, spec3d.grams, spec3d.minutes)
    spec: PaperJobSpec | None = body.paper
    assert spec is not None
    sides: dict[tuple[Colour, MediaSize], int] = {}
    for entry in spec.sides:
        try:
            size = MediaSize(entry.size)
        except ValueError as exc:
            allowed = ", ".join(s.value for s in MediaSize)
            raise ApiProblem(422, "invalid_request", "Invalid request",
                             f"paper.sides: size {entry.size!r} is not one of {allowed}") from exc
        key = (Colour(entry.colour), size)
        sides[key] = sides.get(key, 0) + entry.count
    try:
        return PaperJob(Function(spec.function), sides, spec.duplex, spec.copies, spec.minutes)
    except ValueError as exc:
        raise ApiProblem(422, "invalid_request", "Invalid request", f"paper: {exc}") from exc


def _line(line: Line) -> dict[str, Any]:
    return {
        "kind": line.kind.value, "label": line.label, "quantity": str(line.quantity),
        "unit_price": str(line.unit_price), "amount": str(line.amount),
        "colour": line.colour.value if line.colour else None,
        "size": line.size.value if line.size else None,
    }


@router.post("/estimate")
def estimate_job(body: EstimateRequest, context: Context, terminal: CurrentTerminal,
                 session_token: SessionToken = None) -> dict[str, Any]:
    if body.username is not None:
        require_user_session(context, terminal, session_token, body.username)
    catalogue = _catalogue(context)
    job = _job(body)
    with context.db.read() as session:
        user = _user(session, body.username)
        chosen = _select(catalogue, session, user, terminal)
        volume = (period_volume(session, user, catalogue.periods, date.today())
                  if user is not None else None)
    try:
        result = estimate(job, chosen, volume)
    except PricingError as exc:
        raise ApiProblem(422, "job_not_priced", "Job cannot be priced", str(exc)) from exc
    quote = result.quote
    return {
        "price_list": quote.price_list,
        "currency": quote.currency,
        "total": str(quote.total.amount),
        "lines": [_line(line) for line in quote.lines],
        "period_volume": None if volume is None
        else {"mono": volume.mono, "colour": volume.colour},
        "alternatives": [
            {"change": alt.change.value, "total": str(alt.quote.total.amount),
             "saving": str(alt.saving.amount)}
            for alt in result.alternatives
        ],
    }
