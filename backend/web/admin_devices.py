"""``/admin/devices``: the device problems open now (a jam, an empty toner, a silent
kiosk, a hold left open...), oldest first, read from ``device_problems``
(backend.notify.devices). Read-only: a problem closes by itself when its device reports it
cleared, so there is nothing to click; the page answers "what is wrong right now?" for an
administrator who got a mail, or who runs the site in digest mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from backend.models import DeviceProblem, Terminal
from backend.web.auth import context_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]
LIMIT = 500


@dataclass(frozen=True)
class OpenProblem:
    code: str
    subject: str
    # What the printer said in its own words (alert descriptions), for the Detail column.
    said: str
    level_percent: int | None
    terminal: str
    device: str
    since: datetime


@router.get("/admin/devices", response_class=HTMLResponse)
def devices_page(request: Request, identity: Reader) -> HTMLResponse:
    context = context_of(request)
    with context.db.read() as session:
        rows = session.execute(
            select(DeviceProblem, Terminal.name, Terminal.device)
            .join(Terminal, Terminal.id == DeviceProblem.terminal_id)
            .where(DeviceProblem.cleared_at.is_(None))
            .order_by(DeviceProblem.opened_at, DeviceProblem.id).limit(LIMIT)).tuples().all()
    problems = [OpenProblem(problem.code, problem.subject, _said(problem.detail),
                            _level(problem.detail), name, device or "", problem.opened_at)
                for problem, name, device in rows]
    return render(request, "admin/devices.html", identity, problems=problems,
                  notifications=context.config.notifications.enabled)


def _said(detail: dict[str, Any] | None) -> str:
    descriptions = (detail or {}).get("descriptions")
    if not isinstance(descriptions, list):
        return ""
    return "; ".join(str(text) for text in descriptions if isinstance(text, str))


def _level(detail: dict[str, Any] | None) -> int | None:
    level = (detail or {}).get("level_percent")
    return level if isinstance(level, int) and not isinstance(level, bool) else None
