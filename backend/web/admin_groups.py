"""``/admin/groups`` and ``/admin/cost-centres``: list with members, create, rename, and
delete when unused (the page says what still uses it otherwise). Rules and audit are in
``backend.people``; this module parses the form and renders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from backend import people
from backend.web.admin_home import SECTIONS, Section
from backend.web.admin_people_text import form_text, refusal
from backend.web.auth import context_of, origin_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import page_text, render

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebIdentity, Depends(staff("administrator"))]
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]
PATHS = {"groups": "/admin/groups", "centres": "/admin/cost-centres"}

SECTIONS.append(Section("/admin/groups", "Groups", "Groups of users: quotas, billing codes."))
SECTIONS.append(Section("/admin/cost-centres", "Cost centres",
                        "Cost centres users belong to."))


def _list(request: Request, identity: WebIdentity, kind: str, status_code: int = 200,
          error: tuple[str, str] | None = None, values: dict[str, str] | None = None,
          done: str | None = None) -> HTMLResponse:
    """``error``: (the row's id or "new", message)."""
    with context_of(request).db.read() as session:
        rows: list[Any] = (people.groups(session) if kind == "groups"
                           else people.cost_centres(session))
    return render(request, f"admin/{'groups' if kind == 'groups' else 'cost_centres'}.html",
                  identity, status_code=status_code, rows=rows, error=error,
                  values=values or {}, done=done if done in ("created", "renamed",
                                                             "deleted") else None)


@router.get("/admin/groups", response_class=HTMLResponse)
def group_list(request: Request, identity: Reader, done: str | None = None) -> HTMLResponse:
    return _list(request, identity, "groups", done=done)


@router.get("/admin/cost-centres", response_class=HTMLResponse)
def centre_list(request: Request, identity: Reader, done: str | None = None) -> HTMLResponse:
    return _list(request, identity, "centres", done=done)


def _run(request: Request, identity: WebIdentity, kind: str, row: str,
         values: dict[str, str], change: Callable[[Session, str, str | None], Any],
         done: str) -> Response:
    try:
        with context_of(request).db.write() as session:
            change(session, f"staff:{identity.username}", origin_of(request))
    except people.Refused as refused:
        return _list(request, identity, kind, 400,
                     (row, refusal(page_text(request, identity), refused)), values)
    return RedirectResponse(f"{PATHS[kind]}?done={done}", status_code=303)


@router.post("/admin/groups")
async def create_group(request: Request, identity: Admin) -> Response:
    name = form_text(await request.form(), "name", 200)
    return _run(request, identity, "groups", "new", {"name": name},
                lambda session, actor, origin: people.create_group(
                    session, name, actor=actor, origin=origin), "created")


@router.post("/admin/groups/{group_id}/rename")
async def rename_group(request: Request, identity: Admin, group_id: int) -> Response:
    name = form_text(await request.form(), "name", 200)
    return _run(request, identity, "groups", str(group_id), {"name": name},
                lambda session, actor, origin: people.rename_group(
                    session, group_id, name, actor=actor, origin=origin), "renamed")


@router.post("/admin/groups/{group_id}/delete")
async def delete_group(request: Request, identity: Admin, group_id: int) -> Response:
    return _run(request, identity, "groups", str(group_id), {},
                lambda session, actor, origin: people.delete_group(
                    session, group_id, actor=actor, origin=origin), "deleted")


@router.post("/admin/cost-centres")
async def create_centre(request: Request, identity: Admin) -> Response:
    form = await request.form()
    code, name = form_text(form, "code", 100), form_text(form, "name", 300)
    return _run(request, identity, "centres", "new", {"code": code, "name": name},
                lambda session, actor, origin: people.create_cost_centre(
                    session, code, name, actor=actor, origin=origin), "created")


@router.post("/admin/cost-centres/{centre_id}/rename")
async def rename_centre(request: Request, identity: Admin, centre_id: int) -> Response:
    name = form_text(await request.form(), "name", 300)
    return _run(request, identity, "centres", str(centre_id), {"name": name},
                lambda session, actor, origin: people.rename_cost_centre(
                    session, centre_id, name, actor=actor, origin=origin), "renamed")


@router.post("/admin/cost-centres/{centre_id}/delete")
async def delete_centre(request: Request, identity: Admin, centre_id: int) -> Response:
    return _run(request, identity, "centres", str(centre_id), {},
                lambda session, actor, origin: people.delete_cost_centre(
                    session, centre_id, actor=actor, origin=origin), "deleted")
