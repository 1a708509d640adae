"""Rendering a page: the Jinja2 environment (autoescaped), and what every template gets.

Every template receives ``_`` (translate), ``text`` (the :class:`PageText`: ``money``,
``when``, ``day``, ``plural``), ``identity`` (who is signed in, or None), ``csrf`` (the
token every form must carry: ``{{ csrf_field() }}``), ``nav`` (the sections the
identity may open) and ``request``. Values are escaped on output; nothing in the
templates is marked safe except the hidden CSRF input built here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from backend.web.i18n import LANGUAGES, PageText, pick_language
from backend.web.sessions import WebIdentity

TEMPLATES = Path(__file__).with_name("templates")
LANGUAGE_COOKIE = "pk_lang"

_env = Environment(loader=FileSystemLoader(TEMPLATES),
                   autoescape=select_autoescape(default=True, default_for_string=True),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class NavLink:
    href: str
    label: str


def navigation(identity: WebIdentity | None, text: PageText) -> list[NavLink]:
    """The sections an identity may open, in the order of the header."""
    if identity is None:
        return []
    if identity.area == "me":
        return [NavLink("/me", text("My account"))]
    links = []
    if identity.has("cashier", "administrator"):
        links.append(NavLink("/cash-desk", text("Cash desk")))
    if identity.has("administrator", "auditor"):
        links.append(NavLink("/admin", text("Administration")))
        links.append(NavLink("/admin/audit", text("Audit log")))
    return links


def page_text(request: Request, identity: WebIdentity | None) -> PageText:
    context = request.app.state.context
    preferred = request.cookies.get(LANGUAGE_COOKIE) or (
        identity.language if identity is not None else None)
    language = pick_language(preferred, request.headers.get("accept-language"))
    return PageText(language=language, currency=context.currency,
                    timezone=context.config.vouchers.timezone or "UTC")


def render(request: Request, template: str, identity: WebIdentity | None = None,
           status_code: int = 200, csrf: str | None = None, **values: Any) -> HTMLResponse:
    """The page ``template`` for ``identity``; ``csrf`` overrides the session's token
    (the sign-in form, before any session exists)."""
    text = page_text(request, identity)
    token = csrf if csrf is not None else (identity.csrf if identity is not None else "")

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
            escape(token))

    html = _env.get_template(template).render(
        request=request, identity=identity, text=text, _=text, csrf=token,
        csrf_field=csrf_field, nav=navigation(identity, text), languages=LANGUAGES,
        path=request.url.path, **values)
    return HTMLResponse(html, status_code=status_code)
