"""``/admin/users``: find a user, and on the user's page edit the profile, cards, PIN,
web password, roles and balances (adjustments with a reason).

Administrators change, auditors read (the page shows them no form and every POST takes
``Admin``). Each POST parses its form, calls ``backend.people`` in one write
transaction (which audits with who and from where) and redirects back to the user's
page (Post/Redirect/Get); a refused change re-renders the page with status 400, the
values kept and the message next to the field. Slow hashing (PIN, password) is done
before the write transaction, never under its lock.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from backend import people
from backend.models import ROLES, AccountKind, AdminAdjustment, Card, CostCentre, Group
from backend.money import parse_typed_amount
from backend.web.admin_home import SECTIONS, Section
from backend.web.admin_people_text import form_text, refusal
from backend.web.auth import context_of, origin_of, staff
from backend.web.sessions import WebIdentity, open_sessions
from backend.web.templating import page_text, render

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebIdentity, Depends(staff("administrator"))]
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]
PER_PAGE = 25
DONE = ("profile", "card_added", "card_removed", "pin_set", "pin_cleared", "password",
        "role", "adjusted")

SECTIONS.append(Section("/admin/users", "Users",
                        "Find and edit users: cards, PIN, password, roles, balances."))


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() and len(value) < 10 else None


@router.get("/admin/users", response_class=HTMLResponse)
def user_list(request: Request, identity: Reader, q: str = "", group: str = "",
              status: str = "", page: str = "1") -> HTMLResponse:
    with context_of(request).db.read() as session:
        found = people.find_users(session, q[:100], _int(group),
                                  status if status in people.STATUSES else None,
                                  _int(page) or 1, PER_PAGE)
        groups = list(session.scalars(select(Group).order_by(Group.name)))
        return render(request, "admin/users.html", identity, found=found, groups=groups,
                      q=q[:100], group=_int(group), status=status)


def signed_amount(raw: str) -> Decimal:
    """An adjustment's amount: ``parse_amount``'s plain form with an optional sign."""
    raw = raw.strip()
    negative = raw.startswith("-")
    amount = parse_typed_amount(raw[1:] if raw[:1] in "+-" and raw else raw)
    return -amount if negative else amount


def _page(request: Request, identity: WebIdentity, username: str, status_code: int = 200,
          errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
          done: str | None = None) -> Response:
    context = context_of(request)
    with context.db.read() as session:
        user = people.user_named(session, username)
        if user is None:
            return render(request, "admin/not_found.html", identity, status_code=404)
        adjustments = people.recent_adjustments(session, user)
        row = (session.get(AdminAdjustment, request.query_params.get("operation", "")[:32])
               if done == "adjusted" else None)
        adjusted = next((item for item in adjustments
                         if row is not None and item[0].id == row.transaction_id), None)
        return render(
            request, "admin/user.html", identity, status_code=status_code, user=user,
            groups=list(session.scalars(select(Group).order_by(Group.name))),
            centres=list(session.scalars(select(CostCentre).order_by(CostCentre.code))),
            user_groups={group.id for group in user.groups},
            cards=list(session.scalars(select(Card).where(Card.user_id == user.id)
                                       .order_by(Card.id))),
            roles=ROLES, balance=people.balance_of(session, user, context.currency),
            adjustments=adjustments,
            sessions=len(open_sessions(session, user.id)),
            errors=errors or {}, values=values or {}, done=done if done in DONE else None,
            adjusted=adjusted, operation=uuid.uuid4().hex,
            account_kinds=(AccountKind.USER_VIRTUAL, AccountKind.USER_PERSONAL))


@router.get("/admin/users/{username}", response_class=HTMLResponse)
def user_page(request: Request, identity: Reader, username: str,
              done: str | None = None) -> Response:
    return _page(request, identity, username[:100], done=done)


def _back(username: str, done: str, **query: str) -> RedirectResponse:
    extra = "".join(f"&{key}={value}" for key, value in query.items())
    return RedirectResponse(f"/admin/users/{username}?done={done}{extra}", status_code=303)


def _change(request: Request, identity: WebIdentity, username: str, form: FormData,
            change: Any, done: str, **query: str) -> Response:
    """Run ``change(session, user)`` in a write transaction; a refusal re-renders."""
    text = page_text(request, identity)
    try:
        with context_of(request).db.write() as session:
            user = people.user_named(session, username)
            if user is None:
                return render(request, "admin/not_found.html", identity, status_code=404)
            change(session, user)
    except people.Refused as refused:
        return _page(request, identity, username, 400, {refused.field: refusal(text, refused)},
                     {key: form_text(form, key) for key in form if key != "csrf_token"})
    return _back(username, done, **query)


@router.post("/admin/users/{username}/profile")
async def save_profile(request: Request, identity: Admin, username: str) -> Response:
    form = await request.form()
    text = page_text(request, identity)
    errors: dict[str, str] = {}
    try:
        overdraft = parse_typed_amount(form_text(form, "overdraft_limit", 30) or "0")
    except ValueError:
        errors["overdraft_limit"] = text("Enter an amount such as 5.00.")
        overdraft = Decimal("0")
    centre = form_text(form, "cost_centre", 12)
    profile = people.Profile(
        display_name=form_text(form, "display_name", 300), email=form_text(
            form, "email", 300).strip(), language=form_text(form, "language", 8),
        cost_centre_id=_int(centre) if centre else None,
        group_ids=tuple(sorted({number for value in form.getlist("groups")
                                if isinstance(value, str) and (number := _int(value))})),
        overdraft_limit=overdraft, status=form_text(form, "status", 16))
    with context_of(request).db.read() as session:
        errors.update({problem.field: refusal(text, problem)
                       for problem in people.check_profile(session, profile)})
    if errors:
        return _page(request, identity, username, 400, errors,
                     {key: form_text(form, key) for key in form if key != "csrf_token"})
    return _change(request, identity, username, form, lambda session, user: people.update_profile(
        session, user, profile, actor=f"staff:{identity.username}",
        origin=origin_of(request)), "profile")


@router.post("/admin/users/{username}/cards")
async def add_card(request: Request, identity: Admin, username: str) -> Response:
    form = await request.form()
    secret = context_of(request).secret
    return _change(request, identity, username, form, lambda session, user: people.add_card(
        session, secret, user, form_text(form, "card", 200), form_text(form, "label", 200),
        actor=f"staff:{identity.username}", origin=origin_of(request)), "card_added")


@router.post("/admin/users/{username}/cards/{card_id}/remove")
async def remove_card(request: Request, identity: Admin, username: str,
                      card_id: int) -> Response:
    form = await request.form()
    return _change(request, identity, username, form, lambda session, user: people.remove_card(
        session, user, card_id, actor=f"staff:{identity.username}",
        origin=origin_of(request)), "card_removed")


@router.post("/admin/users/{username}/pin")
async def reset_pin(request: Request, identity: Admin, username: str) -> Response:
    form = await request.form()
    clear = form_text(form, "action", 10) == "clear"
    text = page_text(request, identity)
    try:
        digest = None if clear else people.hash_new_pin(context_of(request).secret,
                                                        form_text(form, "pin", 20))
    except people.Refused as refused:
        return _page(request, identity, username, 400, {refused.field: refusal(text, refused)})
    return _change(request, identity, username, form, lambda session, user: people.set_pin(
        session, user, digest, actor=f"staff:{identity.username}", origin=origin_of(request)),
        "pin_cleared" if clear else "pin_set")


@router.post("/admin/users/{username}/password")
async def reset_password(request: Request, identity: Admin, username: str) -> Response:
    form = await request.form()
    text = page_text(request, identity)
    try:
        digest = people.hash_new_password(context_of(request).secret,
                                          form_text(form, "password", 300))
    except people.Refused as refused:
        return _page(request, identity, username, 400, {refused.field: refusal(text, refused)})
    return _change(request, identity, username, form, lambda session, user: people.set_password(
        session, user, digest, actor=f"staff:{identity.username}", origin=origin_of(request)),
        "password")


@router.post("/admin/users/{username}/roles")
async def change_role(request: Request, identity: Admin, username: str) -> Response:
    form = await request.form()
    grant = form_text(form, "grant", 4) == "1"
    return _change(request, identity, username, form, lambda session, user: people.change_role(
        session, user, form_text(form, "role", 40), grant, actor_user=identity.username,
        origin=origin_of(request)), "role")


@router.post("/admin/users/{username}/adjust")
async def adjust(request: Request, identity: Admin, username: str) -> Response:
    form = await request.form()
    text = page_text(request, identity)
    operation = form_text(form, "operation", 40)
    kept = {key: form_text(form, key) for key in ("amount", "reason", "account")}
    try:
        amount = signed_amount(form_text(form, "amount", 30))
    except ValueError:
        return _page(request, identity, username, 400,
                     {"amount": text("Enter an amount such as 5.00 or -2.50.")}, kept)
    currency = context_of(request).currency
    return _change(request, identity, username, form, lambda session, user: people.adjust_once(
        session, user, currency, operation=operation, account_kind=form_text(form, "account", 40),
        amount=amount, reason=form_text(form, "reason", 500),
        actor=f"staff:{identity.username}", origin=origin_of(request)), "adjusted",
        operation=operation)
