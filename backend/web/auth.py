"""Who may open a page: FastAPI dependencies for the staff pages and the user's own page.

``staff(*roles)`` is the one door of every staff route: it loads the session from the
cookie, checks the role, and on a state-changing method (POST, PUT, PATCH, DELETE) the
CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``, which htmx sends),
so a route cannot be written that changes something without all three. ``me()`` is the
same for ``/me``. A missing or expired session sends a page request to the sign-in form
(htmx requests get ``HX-Redirect``); a wrong role is 403; a bad CSRF token is 403.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import quote

from fastapi import Request

from backend.context import BackendContext
from backend.web.sessions import COOKIES, WebIdentity, csrf_matches, load_session

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_PATH = {"staff": "/login", "me": "/me/login"}
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """No live session: answered by a redirect to the area's sign-in form."""

    def __init__(self, area: str, next_path: str) -> None:
        super().__init__(area)
        self.area = area
        self.next_path = next_path

    @property
    def location(self) -> str:
        return f"{LOGIN_PATH[self.area]}?next={quote(self.next_path, safe='/')}"


class Forbidden(Exception):
    """Signed in, but not allowed: answered by a 403 page saying why."""

    def __init__(self, identity: WebIdentity | None, reason: str) -> None:
        super().__init__(reason)
        self.identity = identity
        self.reason = reason


def context_of(request: Request) -> BackendContext:
    context: BackendContext = request.app.state.context
    return context


def client_address(request: Request) -> str:
    """The client's address: the peer, or X-Forwarded-For's last hop when the peer is a
    trusted proxy (``[web] trusted_proxies``)."""
    peer = request.client.host if request.client is not None else "unknown"
    trusted = context_of(request).config.web.trusted_proxies
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in trusted:
        last = forwarded.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:
            return peer
    return peer


def origin_of(request: Request) -> str:
    """What the audit log records as where a change came from."""
    return f"web:{client_address(request)}"


def _idle(context: BackendContext, area: str) -> timedelta:
    web = context.config.web
    return timedelta(seconds=web.staff_idle_timeout_s if area == "staff"
                     else web.me_idle_timeout_s)


def identity_of(request: Request, area: str) -> WebIdentity | None:
    """The live session of the request's cookie for ``area``, or None."""
    cached = request.state.__dict__.setdefault("web_identities", {})
    if area not in cached:
        context = context_of(request)
        cached[area] = load_session(context.db, context.secret,
                                    request.cookies.get(COOKIES[area]), area,
                                    _idle(context, area))
    identity: WebIdentity | None = cached[area]
    return identity


async def check_csrf(request: Request, expected: str) -> None:
    if request.method not in UNSAFE:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded",
                                    "multipart/form-data")):
            field = (await request.form()).get(CSRF_FIELD)
            given = field if isinstance(field, str) else None
    if not csrf_matches(expected, given):
        raise Forbidden(None, "This form has expired or did not come from this site. "
                              "Reload the page and try again.")


def staff(*roles: str) -> Callable[[Request], Awaitable[WebIdentity]]:
    """The dependency of a staff route open to ``roles`` (any of them)."""
    assert roles, "name the roles that may open the page"

    async def signed_in_staff(request: Request) -> WebIdentity:
        identity = identity_of(request, "staff")
        if identity is None:
            raise SignInRequired("staff", _next_path(request))
        if not identity.has(*roles):
            raise Forbidden(identity, "Your account may not open this page.")
        await check_csrf(request, identity.csrf)
        return identity

    return signed_in_staff


def me() -> Callable[[Request], Awaitable[WebIdentity]]:
    """The dependency of a route of the user's own page."""

    async def signed_in_user(request: Request) -> WebIdentity:
        identity = identity_of(request, "me")
        if identity is None:
            raise SignInRequired("me", _next_path(request))
        await check_csrf(request, identity.csrf)
        return identity

    return signed_in_user


def _next_path(request: Request) -> str:
    """Where to come back after signing in: this page, or for a form post the page
    that showed it (its own path with GET)."""
    path = request.url.path
    if request.method == "GET" and request.url.query:
        path = f"{path}?{request.url.query}"
    return path
