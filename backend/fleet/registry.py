"""Clients, their sites and the devices placed on them: the changes an administrator
makes (web page or CLI), each checked and audited in the caller's transaction.

Why one module for both front ends: the rules (a code is unique, a billing day is 1..28
so every month has it, a device goes on a site that exists) and the audit entries are
then the same whether the change came from ``/admin/fleet`` or ``printkiosk backend
fleet``; a refusal is a :class:`FleetRefused` with a stable code each front end words.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import record
from backend.models import Client, Device, Site

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class FleetRefused(Exception):
    """A change that breaks a rule: ``field`` names the input, ``code`` the rule."""

    def __init__(self, field: str, code: str, **values: str) -> None:
        super().__init__(f"{field}: {code} {values}" if values else f"{field}: {code}")
        self.field = field
        self.code = code
        self.values = values


def _code(field: str, value: str) -> str:
    value = value.strip()
    if not CODE.match(value):
        raise FleetRefused(field, "code_invalid", value=value)
    return value


def _name(field: str, value: str, limit: int = 200) -> str:
    value = value.strip()
    if not 1 <= len(value) <= limit or any(ord(c) < 32 for c in value):
        raise FleetRefused(field, "name_length", limit=str(limit))
    return value


def billing_day(value: str | int) -> int:
    """1..28: a period starting on the 29th would skip February."""
    try:
        day = int(str(value).strip())
    except ValueError:
        raise FleetRefused("billing_day", "billing_day_range", value=str(value)) from None
    if not 1 <= day <= 28:
        raise FleetRefused("billing_day", "billing_day_range", value=str(value))
    return day


def client_by_code(session: Session, code: str) -> Client:
    client = session.scalar(select(Client).where(Client.code == code.strip()))
    if client is None:
        raise FleetRefused("client", "client_unknown", value=code)
    return client


def site_by_code(session: Session, code: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == code.strip()))
    if site is None:
        raise FleetRefused("site", "site_unknown", value=code)
    return site


def device_by_code(session: Session, code: str) -> Device:
    device = session.scalar(select(Device).where(Device.code == code.strip()))
    if device is None:
        raise FleetRefused("device", "device_unknown", value=code)
    return device


def create_client(session: Session, code: str, name: str, day: str | int = 1, *,
                  actor: str, origin: str | None = None) -> Client:
    code, name, day = _code("code", code), _name("name", name), billing_day(day)
    if session.scalar(select(Client.id).where(Client.code == code)) is not None:
        raise FleetRefused("code", "code_taken", value=code)
    client = Client(code=code, name=name, billing_day=day)
    session.add(client)
    session.flush()
    record(session, actor, "fleet.client.create", code, {"name": name, "billing_day": day},
           origin=origin)
    return client


def edit_client(session: Session, code: str, *, name: str | None = None,
                day: str | int | None = None, active: bool | None = None, actor: str,
                origin: str | None = None) -> Client:
    client = client_by_code(session, code)
    changes: dict[str, Any] = {}
    if name is not None and _name("name", name) != client.name:
        changes["name"] = {"from": client.name, "to": _name("name", name)}
        client.name = _name("name", name)
    if day is not None and billing_day(day) != client.billing_day:
        changes["billing_day"] = {"from": client.billing_day, "to": billing_day(day)}
        client.billing_day = billing_day(day)
    if active is not None and active != client.active:
        changes["active"] = {"from": client.active, "to": active}
        client.active = active
    if changes:
        session.flush()
        record(session, actor, "fleet.client.edit", client.code, changes, origin=origin)
    return client


def create_site(session: Session, client_code: str, code: str, name: str, *, actor: str,
                origin: str | None = None) -> Site:
    client = client_by_code(session, client_code)
    code, name = _code("code", code), _name("name", name)
    if session.scalar(select(Site.id).where(Site.code == code)) is not None:
        raise FleetRefused("code", "code_taken", value=code)
    site = Site(client_id=client.id, code=code, name=name)
    session.add(site)
    session.flush()
    record(session, actor, "fleet.site.create", code, {"client": client.code, "name": name},
           origin=origin)
    return site


def edit_site(session: Session, code: str, *, name: str, actor: str,
              origin: str | None = None) -> Site:
    site = site_by_code(session, code)
    name = _name("name", name)
    if name != site.name:
        record(session, actor, "fleet.site.edit", site.code,
               {"name": {"from": site.name, "to": name}}, origin=origin)
        site.name = name
        session.flush()
    return site


def place_device(session: Session, device_code: str, site_code: str | None, *, actor: str,
                 origin: str | None = None) -> Device:
    """Put a device on a site (``None`` or "": take it off any site)."""
    device = device_by_code(session, device_code)
    site = site_by_code(session, site_code) if site_code else None
    before = session.get(Site, device.site_id) if device.site_id is not None else None
    if (site.id if site else None) != device.site_id:
        device.site_id = site.id if site else None
        session.flush()
        record(session, actor, "fleet.device.place", device.code,
               {"from": before.code if before else None, "to": site.code if site else None},
               origin=origin)
    return device


def edit_device(session: Session, device_code: str, *, name: str | None = None,
                model: str | None = None, serial: str | None = None, actor: str,
                origin: str | None = None) -> Device:
    """``model`` / ``serial`` "": forget it (unknown)."""
    device = device_by_code(session, device_code)
    changes: dict[str, Any] = {}
    wanted: dict[str, str | None] = {}
    if name is not None:
        wanted["name"] = _name("name", name)
    if model is not None:
        wanted["model"] = _name("model", model) if model.strip() else None
    if serial is not None:
        wanted["serial"] = _name("serial", serial, 100) if serial.strip() else None
    for field, value in wanted.items():
        if getattr(device, field) != value:
            changes[field] = {"from": getattr(device, field), "to": value}
            setattr(device, field, value)
    if changes:
        session.flush()
        record(session, actor, "fleet.device.edit", device.code, changes, origin=origin)
    return device
