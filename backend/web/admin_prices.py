"""``/admin/prices``: the price list in force for a device, a group or a user, with a
worked example, and uploading a new TOML list (administrators).

Validation is billing's (the messages of start-up and ``printkiosk doctor``); a valid list
is stored by :mod:`backend.price_uploads` and takes effect from the start of the current
accounting period in every backend process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from backend import price_uploads
from backend.models import Group, Terminal, User
from backend.pricing import PriceCatalogue, device_context
from backend.web.auth import context_of, origin_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import page_text, render
from billing import (
    Colour,
    Estimate,
    MediaSize,
    NoPriceList,
    PaperJob,
    PriceList,
    PricingContext,
    PricingError,
    Problem,
    estimate,
)
from billing.config_errors import MISSING

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebIdentity, Depends(staff("administrator"))]
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]

# The worked example: a typical job, ten A4 mono sides and two colour ones.
EXAMPLE = PaperJob.simple(mono=10, colour=2)


@dataclass(frozen=True)
class Shown:
    """The list the chosen context gets today, and the example priced with it."""

    price_list: PriceList | None
    filename: str
    example: Estimate | None
    missing: str | None


@dataclass(frozen=True)
class ProblemRow:
    file: str
    key: str
    value: str
    expected: str


def problem_rows(problems: tuple[Problem, ...]) -> list[ProblemRow]:
    return [ProblemRow(p.file, p.key, "" if p.value is MISSING else repr(p.value), p.expected)
            for p in problems]


def _choices(session: Session) -> tuple[list[str], list[str]]:
    groups = list(session.scalars(select(Group.name).order_by(Group.name)))
    devices = sorted({d for d in session.scalars(select(Terminal.device)
                                                 .where(Terminal.device.is_not(None))) if d})
    return groups, devices


def _context(session: Session, username: str, group: str, device: str) -> PricingContext:
    model = session.scalar(select(Terminal.device_model).where(Terminal.device == device)
                           .limit(1)) if device else None
    user = session.scalar(select(User).where(User.username == username)) if username else None
    found = device_context(session, user, device or None, model)
    if group:
        found = PricingContext(found.user, tuple(dict.fromkeys((*found.groups, group))),
                               found.cost_centre, found.device, found.device_model)
    return found


def _shown(catalogue: PriceCatalogue | None, wanted: PricingContext, today: date) -> Shown:
    if catalogue is None:
        return Shown(None, "", None, "none")
    try:
        chosen = catalogue.book.select(wanted, today)
    except NoPriceList:
        return Shown(None, "", None, "none")
    try:
        example: Estimate | None = estimate(EXAMPLE, chosen)
    except PricingError:
        example = None
    return Shown(chosen, catalogue.source_of(chosen).filename, example, None)


def _page(request: Request, identity: WebIdentity, status_code: int = 200,
          problems: list[ProblemRow] | None = None, uploaded: str = "") -> HTMLResponse:
    context = context_of(request)
    query = request.query_params
    username = (query.get("user") or "").strip()[:100]
    group = (query.get("group") or "").strip()[:64]
    device = (query.get("device") or "").strip()[:200]
    today = date.today()
    catalogue = context.prices
    with context.db.read() as session:
        groups, devices = _choices(session)
        wanted = _context(session, username, group, device)
        unknown_user = bool(username) and wanted.user is None
        versions = price_uploads.versions(session)
    periods = catalogue.periods if catalogue is not None else None
    return render(request, "admin/prices.html", identity, status_code=status_code,
                  groups=groups, devices=devices, username=username, group=group,
                  device=device, unknown_user=unknown_user,
                  shown=_shown(catalogue, wanted, today), sides=EXAMPLE.sides,
                  period_start=(periods.start_of(today) if periods else None),
                  versions=versions, problems=problems or [], uploaded=uploaded,
                  colours=list(Colour), sizes=list(MediaSize))


@router.get("/admin/prices", response_class=HTMLResponse)
def prices_page(request: Request, identity: Reader) -> HTMLResponse:
    return _page(request, identity, uploaded=request.query_params.get("uploaded", "")[:20])


@router.post("/admin/prices/upload", response_class=HTMLResponse)
async def upload_price_list(request: Request, identity: Admin) -> Response:
    text = page_text(request, identity)
    form = await request.form()
    upload = form.get("price_list")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, identity, 400, [ProblemRow("", "", "", text(
            "Choose a TOML price list file to upload."))])
    filename = upload.filename.rsplit("/", 1)[-1][:200]
    raw = await upload.read(price_uploads.MAX_TOML_BYTES + 1)
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _page(request, identity, 400, [ProblemRow(filename, "", "", text(
            "The file is not UTF-8 text."))])
    context = context_of(request)
    try:
        with context.db.write() as session:
            row = price_uploads.store(session, context.config.pricing, text=source,
                                      filename=filename, currency=context.currency,
                                      actor=f"staff:{identity.username}",
                                      origin=origin_of(request), today=date.today())
            version = row.id
    except price_uploads.Invalid as exc:
        return _page(request, identity, 400, problem_rows(exc.problems))
    return RedirectResponse(f"/admin/prices?uploaded={version}", status_code=303)
