"""``/admin/fleet``: clients, their sites and devices with last month's and this month's
pages (mono, colour, scan), the pages no job accounts for, and each supply's level
history with its forecast. Administrators create and edit clients and sites, place a
device on a site and correct its model and serial; auditors read. The rules and the
audit entries are :mod:`backend.fleet.registry`'s; this module reads forms and renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.fleet import registry
from backend.fleet.forecast import Forecast, Level, device_forecasts, history
from backend.fleet.monthly import (
    FleetMonth,
    Unattributed,
    fleet_month,
    month_of,
    previous_month,
    unattributed,
)
from backend.models import Client, Device, Site, utcnow
from backend.web.admin_home import SECTIONS, Section
from backend.web.admin_people_text import form_text
from backend.web.auth import context_of, origin_of, staff
from backend.web.sessions import WebIdentity
from backend.web.templating import page_text, render

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebIdentity, Depends(staff("administrator"))]
Reader = Annotated[WebIdentity, Depends(staff("administrator", "auditor"))]
CHART_DAYS = 90

SECTIONS.append(Section("/admin/fleet", "Fleet",
                        "Clients, sites and devices: volumes, unattributed pages, supplies"))


def _(message: str) -> str:
    """Marks a msgid for the catalogue test; the page translates it when shown."""
    return message


REFUSALS = {
    "code_invalid": _("A code is 1 to 64 letters, digits, '.', '_' or '-'."),
    "code_taken": _("This code is already used: {value}."),
    "name_length": _("Enter 1 to {limit} characters."),
    "billing_day_range": _("The billing day is a day of the month from 1 to 28, not {value}."),
    "client_unknown": _("No client has the code {value}."),
    "site_unknown": _("No site has the code {value}."),
    "device_unknown": _("No device has the code {value}."),
}


@dataclass(frozen=True)
class SupplyRow:
    device: str
    forecast: Forecast
    days_left: float | None
    chart: str  # SVG polyline points, 0..100 on both axes


def _chart(levels: list[Level], since: datetime, now: datetime) -> str:
    span = (now - since).total_seconds() or 1.0
    return " ".join(f"{(level.at - since).total_seconds() * 100 / span:.1f},"
                    f"{100 - level.percent:.0f}" for level in levels)


def _page(request: Request, identity: WebIdentity, status_code: int = 200,
          error: tuple[str, str] | None = None, done: str | None = None) -> HTMLResponse:
    context = context_of(request)
    zone = context.config.vouchers.timezone or "UTC"
    fleet = context.config.fleet
    now = utcnow()
    this = month_of(now, zone)
    last = previous_month(this, zone)
    with context.db.read() as session:
        clients = list(session.scalars(select(Client).order_by(Client.code)))
        sites = list(session.scalars(select(Site).order_by(Site.code)))
        devices = list(session.scalars(select(Device).order_by(Device.code)))
        months: dict[str, FleetMonth] = {"last": fleet_month(session, last),
                                         "this": fleet_month(session, this)}
        gaps: dict[str, list[Unattributed]] = {
            "last": unattributed(session, last.start, last.end),
            "this": unattributed(session, this.start, this.end)}
        supplies = _supplies(session, devices, now, fleet.forecast_window_days,
                             fleet.forecast_min_points)
    codes = {device.id: device.code for device in devices}
    return render(request, "admin/fleet.html", identity, status_code=status_code,
                  clients=clients, sites=sites, devices=devices, months=months,
                  month_days={"last": last.first, "this": this.first}, gaps=gaps,
                  codes=codes, supplies=supplies, alert_days=fleet.supply_alert_days,
                  error=error, done=done if done in ("saved",) else None)


def _supplies(session: Session, devices: list[Device], now: datetime, window: int,
              min_points: int) -> list[SupplyRow]:
    rows = []
    since = now - timedelta(days=CHART_DAYS)
    for device in devices:
        for forecast in device_forecasts(session, device.id, now, window, min_points):
            levels = history(session, device.id, forecast.supply, since)
            rows.append(SupplyRow(device.code, forecast, forecast.days_left(now),
                                  _chart(levels, since, now)))
    return rows


@router.get("/admin/fleet", response_class=HTMLResponse)
def fleet_page(request: Request, identity: Reader, done: str | None = None) -> HTMLResponse:
    return _page(request, identity, done=done)


def _run(request: Request, identity: WebIdentity, form: str,
         change: Callable[[Session, str, str], Any]) -> Response:
    """Apply ``change`` as this administrator; a refusal re-renders the page with the
    message beside form ``form`` and nothing written."""
    try:
        with context_of(request).db.write() as session:
            change(session, f"staff:{identity.username}", origin_of(request))
    except registry.FleetRefused as refused:
        text = page_text(request, identity)
        message = text(REFUSALS.get(refused.code, REFUSALS["code_invalid"]),
                       **refused.values)
        return _page(request, identity, 400, (form, message))
    return RedirectResponse("/admin/fleet?done=saved", status_code=303)


@router.post("/admin/fleet/clients")
async def create_client(request: Request, identity: Admin) -> Response:
    form = await request.form()
    code, name = form_text(form, "code", 100), form_text(form, "name", 300)
    day = form_text(form, "billing_day", 10) or "1"
    return _run(request, identity, "new-client", lambda s, actor, origin: registry.create_client(
        s, code, name, day, actor=actor, origin=origin))


@router.post("/admin/fleet/clients/{code}")
async def edit_client(request: Request, identity: Admin, code: str) -> Response:
    form = await request.form()
    name, day = form_text(form, "name", 300), form_text(form, "billing_day", 10)
    return _run(request, identity, f"client-{code}",
                lambda s, actor, origin: registry.edit_client(
                    s, code, name=name, day=day, actor=actor, origin=origin))


@router.post("/admin/fleet/sites")
async def create_site(request: Request, identity: Admin) -> Response:
    form = await request.form()
    client, code = form_text(form, "client", 100), form_text(form, "code", 100)
    name = form_text(form, "name", 300)
    return _run(request, identity, "new-site", lambda s, actor, origin: registry.create_site(
        s, client, code, name, actor=actor, origin=origin))


@router.post("/admin/fleet/sites/{code}")
async def edit_site(request: Request, identity: Admin, code: str) -> Response:
    name = form_text(await request.form(), "name", 300)
    return _run(request, identity, f"site-{code}", lambda s, actor, origin: registry.edit_site(
        s, code, name=name, actor=actor, origin=origin))


@router.post("/admin/fleet/devices/{code}")
async def edit_device(request: Request, identity: Admin, code: str) -> Response:
    form = await request.form()
    site = form_text(form, "site", 100)
    model, serial = form_text(form, "model", 300), form_text(form, "serial", 200)

    def change(session: Session, actor: str, origin: str) -> None:
        registry.place_device(session, code, site or None, actor=actor, origin=origin)
        registry.edit_device(session, code, model=model, serial=serial, actor=actor,
                             origin=origin)

    return _run(request, identity, f"device-{code}", change)
