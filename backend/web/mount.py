"""Adding the web pages to the backend's FastAPI app (called by ``backend.app``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from backend.rate_limits import TokenBucket
from backend.web import (
    admin_audit,
    admin_devices,
    admin_fleet,
    admin_groups,
    admin_holds,
    admin_home,
    admin_imports,
    admin_notify,
    admin_prices,
    admin_quotas,
    admin_reports,
    admin_statements,
    admin_terminals,
    admin_users,
    admin_vouchers,
    desk_pages,
    me_page,
    sign_in,
)
from backend.web.auth import Forbidden, SignInRequired
from backend.web.security_headers import SecurityHeaders
from backend.web.templating import render

STATIC = Path(__file__).with_name("static")


def install_web(app: FastAPI, api_prefix: str) -> None:
    """Routes, static files, headers and the answers to "sign in first" and 403."""
    web = app.state.context.config.web
    app.state.web_login_bucket = TokenBucket(web.logins_per_minute_per_address / 60,
                                             web.logins_per_minute_per_address)
    app.add_middleware(SecurityHeaders, api_prefix=api_prefix)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (sign_in, admin_home, admin_imports, admin_users, admin_groups, admin_audit,
                   admin_prices, admin_quotas, admin_terminals, admin_holds, admin_vouchers,
                   admin_notify, admin_devices, admin_fleet, admin_reports,
                   desk_pages, me_page):
        app.include_router(module.router)
    app.include_router(admin_statements.router)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": exc.location})
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if request.headers.get("hx-request"):
            return JSONResponse({"detail": exc.reason}, status_code=403)
        return render(request, "forbidden.html", exc.identity, status_code=403,
                      reason=exc.reason)
