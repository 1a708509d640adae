"""Kiosk ``counters`` and ``supplies`` events stored as one row per counter or supply.

Why rows and not the event's JSON: a month's volume per device, or a supply's history, is
then an indexed range scan; the events table keeps the raw payload as received. Stored in
the event's own transaction, so an event is never half-recorded, and keyed by the event
row, so a resent event (a duplicate, never stored twice) adds no reading either.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Device, MeterReading, SupplyReading, Terminal, TerminalEvent

READING_KINDS = frozenset({"counters", "supplies"})


def device_for_terminal(session: Session, terminal: Terminal) -> Device | None:
    """The device a kiosk stands beside (its ``device`` name), created on first sight so
    that an operator only has to place it on a site; None for a kiosk with no device."""
    if not terminal.device:
        return None
    device = session.scalar(select(Device).where(Device.code == terminal.device))
    if device is None:
        device = Device(code=terminal.device, name=terminal.device,
                        model=terminal.device_model)
        session.add(device)
        session.flush()
    return device


def counter_name(reported: str) -> str:
    """``hp:total_mono`` -> ``total_mono``: the vendor's MIB is the kiosk's business; a
    counter means the same whichever vendor answered it."""
    return reported.rsplit(":", 1)[-1]


def record(session: Session, terminal: Terminal, event: TerminalEvent) -> None:
    """Store a counters or supplies event's readings (other kinds: nothing to do)."""
    if event.kind not in READING_KINDS:
        return
    device = device_for_terminal(session, terminal)
    if device is None:
        return
    session.flush()  # the event's id
    payload: dict[str, Any] = event.payload
    if event.kind == "counters":
        serial = payload.get("serial")
        values: dict[str, int] = {}
        for name, value in (payload.get("counters") or {}).items():
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                values.setdefault(counter_name(str(name)), value)
        session.add_all(MeterReading(
            device_id=device.id, event_id=event.id, read_at=event.occurred_at,
            counter=name, value=value, serial=serial if isinstance(serial, str) else None)
            for name, value in values.items())
        return
    seen: set[str] = set()
    for supply in payload.get("supplies") or []:
        if not isinstance(supply, dict) or not isinstance(supply.get("name"), str):
            continue
        name = supply["name"][:200]
        if name in seen:
            continue
        seen.add(name)
        level = supply.get("level_percent")
        usable = isinstance(level, int) and not isinstance(level, bool) and 0 <= level <= 100
        session.add(SupplyReading(device_id=device.id, event_id=event.id,
                                  read_at=event.occurred_at, supply=name,
                                  level_percent=level if usable else None))
