"""``printkiosk backend fleet ...``: the fleet from the command line, with the web page's
rules and audit entries (:mod:`backend.fleet.registry`), as ``cli:<login>``.

  fleet clients                          clients, billing day, sites, devices, pages
  fleet client-add CODE --name NAME [--billing-day N]
  fleet client-edit CODE [--name NAME] [--billing-day N]
  fleet sites                            sites with their client and devices
  fleet site-add CODE --client CODE --name NAME
  fleet devices                          devices: site, model, serial, pages this month
  fleet place DEVICE --site CODE         (--site "" takes it off its site)
  fleet device-edit DEVICE [--model M] [--serial S]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from backend.cli_output import table
from backend.fleet import registry
from backend.fleet.monthly import fleet_month, month_of, previous_month
from backend.models import Client, Device, Site, utcnow
from backend.voucher_cli import Backend, CliRefused

USAGE = ("give `fleet clients`, `fleet sites`, `fleet devices`, `fleet client-add CODE "
         "--name NAME [--billing-day N]`, `fleet client-edit CODE`, `fleet site-add CODE "
         "--client CODE --name NAME`, `fleet place DEVICE --site CODE` or `fleet "
         "device-edit DEVICE [--model M] [--serial S]`")


@dataclass(frozen=True)
class FleetOptions:
    name: str | None = None
    billing_day: str | None = None
    client: str | None = None
    site: str | None = None
    model: str | None = None
    serial: str | None = None


def fleet_command(backend: Backend, words: Sequence[str], options: FleetOptions) -> None:
    verb, *rest = words or ("",)
    try:
        if verb in ("clients", "sites", "devices") and not rest:
            print(_listing(backend, verb))
        elif verb in ("client-add", "client-edit", "site-add", "place", "device-edit") and (
                len(rest) == 1):
            _change(backend, verb, rest[0], options)
        else:
            raise CliRefused(f"{' '.join(words)!r}: {USAGE}" if words else USAGE)
    except registry.FleetRefused as refused:
        raise CliRefused(_words(refused)) from refused


def _words(refused: registry.FleetRefused) -> str:
    value = refused.values.get("value", "")
    return {
        "code_invalid": f"{value!r} is not a code (1 to 64 letters, digits, '.', '_', '-')",
        "code_taken": f"the code {value!r} is already used",
        "name_length": f"--{refused.field}: give 1 to {refused.values.get('limit')} "
                       "characters",
        "billing_day_range": f"--billing-day {value}: a day of the month from 1 to 28",
        "client_unknown": f"no client has the code {value!r}",
        "site_unknown": f"no site has the code {value!r}",
        "device_unknown": f"no device has the code {value!r}",
    }.get(refused.code, str(refused))


def _change(backend: Backend, verb: str, code: str, options: FleetOptions) -> None:
    actor, o = backend.actor, options
    with backend.db.write() as session:
        if verb == "client-add":
            registry.create_client(session, code, o.name or "", o.billing_day or "1",
                                   actor=actor, origin="cli")
        elif verb == "client-edit":
            registry.edit_client(session, code, name=o.name, day=o.billing_day, actor=actor,
                                 origin="cli")
        elif verb == "site-add":
            if not o.client:
                raise CliRefused("site-add needs --client CODE (the site's client)")
            registry.create_site(session, o.client, code, o.name or "", actor=actor,
                                 origin="cli")
        elif verb == "place":
            if o.site is None:
                raise CliRefused("place needs --site CODE (\"\" to take it off its site)")
            registry.place_device(session, code, o.site or None, actor=actor, origin="cli")
        else:
            registry.edit_device(session, code, model=o.model, serial=o.serial, actor=actor,
                                 origin="cli")
    print(f"fleet {verb} {code}: done")


def _listing(backend: Backend, what: str) -> str:
    zone = backend.config.vouchers.timezone or "UTC"
    this = month_of(utcnow(), zone)
    with backend.db.read() as session:
        last_month, this_month = fleet_month(session, previous_month(this, zone)), \
            fleet_month(session, this)
        clients = list(session.scalars(select(Client).order_by(Client.code)))
        sites = list(session.scalars(select(Site).order_by(Site.code)))
        devices = list(session.scalars(select(Device).order_by(Device.code)))
    client_code = {client.id: client.code for client in clients}
    site_code = {site.id: site.code for site in sites}
    if what == "clients":
        return table(["code", "name", "billing day", "sites", "pages last month",
                      "pages this month"], [
            [c.code, c.name, str(c.billing_day),
             str(sum(1 for s in sites if s.client_id == c.id)),
             str(last_month.clients[c.id].total if c.id in last_month.clients else 0),
             str(this_month.clients[c.id].total if c.id in this_month.clients else 0)]
            for c in clients])
    if what == "sites":
        return table(["code", "name", "client", "devices", "pages last month"], [
            [s.code, s.name, client_code[s.client_id],
             str(sum(1 for d in devices if d.site_id == s.id)),
             str(last_month.sites[s.id].total if s.id in last_month.sites else 0)]
            for s in sites])
    return table(["code", "site", "model", "serial", "mono", "colour", "scan", "total"], [
        [d.code, site_code.get(d.site_id, "") if d.site_id else "", d.model or "",
         d.serial or "", *(str(getattr(this_month.devices[d.id], column))
                           if d.id in this_month.devices else "0"
                           for column in ("mono", "colour", "scan", "total"))]
        for d in devices])
