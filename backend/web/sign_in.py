"""Signing in and out: ``/login`` for staff, ``/me/login`` for users; one flow for both.

Before any session exists the form is protected by a double-submit token: a random
``pk_pre`` cookie and, in the form, its keyed hash. A sign-in is refused while the
username is locked (``[web] login_max_failures`` wrong passwords in a row lock it for
``login_lockout_s``) or when the client address has used its attempts for the minute;
every answer to a wrong name or password is the same sentence. Staff sign-ins and
sign-outs are audited with the address they came from.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from backend.audit import record
from backend.models import STAFF_ROLES, User
from backend.security import new_token
from backend.web import login_limits
from backend.web.auth import (
    LOGIN_PATH,
    check_csrf,
    client_address,
    context_of,
    identity_of,
    origin_of,
)
from backend.web.i18n import LANGUAGES
from backend.web.passwords import verify_password
from backend.web.sessions import COOKIES, csrf_for, end_session, open_session
from backend.web.templating import LANGUAGE_COOKIE, page_text, render

router = APIRouter(include_in_schema=False)
PRE_COOKIE = "pk_pre"
HOME = {"staff": "/staff", "me": "/me"}


def secure_cookie(request: Request) -> bool:
    """Whether cookies get the Secure flag (``[web] secure_cookies``)."""
    if context_of(request).config.web.secure_cookies == "always":
        return True
    host = request.url.hostname or ""
    return request.url.scheme == "https" or host in ("127.0.0.1", "localhost", "::1")


def set_cookie(response: Response, request: Request, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=secure_cookie(request), path="/")


def safe_next(next_path: str | None, area: str) -> str:
    """Only a path of this site: never ``//host`` or a scheme (an open redirect)."""
    if (not next_path or not next_path.startswith("/") or next_path.startswith("//")
            or "\\" in next_path or any(ord(c) < 32 for c in next_path)):
        return HOME[area]
    return next_path


def _form(request: Request, area: str, next_path: str | None, status_code: int = 200,
          error: str | None = None, username: str = "") -> HTMLResponse:
    pre = request.cookies.get(PRE_COOKIE)
    fresh = pre is None or len(pre) > 100
    if fresh:
        pre = new_token()
    assert pre is not None
    response = render(request, "sign_in.html", None, status_code=status_code,
                      csrf=csrf_for(context_of(request).secret, pre), area=area,
                      next_path=safe_next(next_path, area), error=error, username=username)
    if fresh:
        set_cookie(response, request, PRE_COOKIE, pre)
    return response


def _sign_in_form(area: str):  # type: ignore[no-untyped-def]
    def show(request: Request, next: str | None = None) -> Response:
        if identity_of(request, area) is not None:
            return RedirectResponse(safe_next(next, area), status_code=303)
        return _form(request, area, next)
    return show


def _sign_in(area: str):  # type: ignore[no-untyped-def]
    async def submit(request: Request, username: Annotated[str, Form(max_length=100)] = "",
                     password: Annotated[str, Form(max_length=200)] = "",
                     next: Annotated[str, Form(max_length=500)] = "") -> Response:
        context = context_of(request)
        text = page_text(request, None)
        await check_csrf(request, csrf_for(context.secret, request.cookies.get(PRE_COOKIE, "")))
        username = username.strip()
        wait = request.app.state.web_login_bucket.take(client_address(request))
        if wait is not None:
            return _form(request, area, next, 429, username=username, error=text(
                "Too many sign-in attempts from this computer. Wait a minute and try "
                "again."))
        locked = login_limits.locked_until(context.db, username)
        if locked is not None:
            return _form(request, area, next, 429, username=username, error=text(
                "Too many wrong passwords: this account is locked until {time}.",
                time=text.when(locked)))
        with context.db.read() as session:
            user = session.scalar(select(User).where(User.username == username))
            stored = user.password_hash if user is not None else None
            allowed = user is not None and user.status == "active" and (
                area == "me" or any(role in STAFF_ROLES for role in user.roles))
            user_id = user.id if user is not None else None
        good = verify_password(context.secret, password, stored)
        if not (good and allowed):
            web = context.config.web
            until = login_limits.record_failure(context.db, username, web.login_max_failures,
                                                timedelta(seconds=web.login_lockout_s))
            error = (text("Too many wrong passwords: this account is locked until {time}.",
                          time=text.when(until)) if until is not None
                     else text("Wrong username or password."))
            return _form(request, area, next, 401 if until is None else 429,
                         username=username, error=error)
        assert user_id is not None
        login_limits.clear_failures(context.db, username)
        token = open_session(context.db, context.secret, user_id, area, origin_of(request),
                             request.headers.get("user-agent", ""))
        if area == "staff":
            with context.db.write() as session:
                record(session, f"staff:{username}", "web.sign_in", username,
                       origin=origin_of(request))
        response = RedirectResponse(safe_next(next, area), status_code=303)
        set_cookie(response, request, COOKIES[area], token)
        response.delete_cookie(PRE_COOKIE, path="/")
        return response
    return submit


def _sign_out(area: str):  # type: ignore[no-untyped-def]
    async def leave(request: Request) -> Response:
        context = context_of(request)
        identity = identity_of(request, area)
        if identity is not None:
            await check_csrf(request, identity.csrf)
            end_session(context.db, context.secret, request.cookies[COOKIES[area]])
            if area == "staff":
                with context.db.write() as session:
                    record(session, f"staff:{identity.username}", "web.sign_out",
                           identity.username, origin=origin_of(request))
        response = RedirectResponse(LOGIN_PATH[area], status_code=303)
        response.delete_cookie(COOKIES[area], path="/")
        return response
    return leave


for _area in ("staff", "me"):
    router.add_api_route(LOGIN_PATH[_area], _sign_in_form(_area), methods=["GET"])
    router.add_api_route(LOGIN_PATH[_area], _sign_in(_area), methods=["POST"])
    router.add_api_route(LOGIN_PATH[_area].replace("login", "logout"), _sign_out(_area),
                         methods=["POST"])


@router.get("/")
def landing(request: Request) -> Response:
    """The site's front page: the user's own page, or staff sign-in."""
    return render(request, "landing.html", None)


@router.get("/staff")
def staff_home(request: Request) -> Response:
    """Where a staff sign-in lands: the clerk at the desk, the others at administration."""
    identity = identity_of(request, "staff")
    if identity is None:
        return RedirectResponse(LOGIN_PATH["staff"], status_code=303)
    target = "/cash-desk" if identity.has("cashier") and not identity.has(
        "administrator", "auditor") else "/admin"
    return RedirectResponse(target, status_code=303)


@router.get("/language/{code}")
def choose_language(request: Request, code: str, back: str = "/") -> Response:
    """Switch the pages' language (a cookie; /me also saves it on the account)."""
    response = RedirectResponse(safe_next(back, "me") if back != "/" else "/", status_code=303)
    if code in LANGUAGES:
        set_cookie(response, request, LANGUAGE_COOKIE, code, max_age=365 * 86400)
    return response
