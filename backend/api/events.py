"""POST /events: a batch of terminal events (device counters, supplies, alerts, job
reports, 3D print progress) drained from the kiosk's outbox. Each event has its own
idempotency key, so a batch resent after a lost answer stores nothing twice; the answer
says which were new.

A new ``print3d_progress`` event may record the job user's nearly-done mail, in the
transaction that stores the event (backend.notify.print3d): progress goes through the
kiosk's outbox like any report, so one made while the backend was away arrives later,
in order, before the print's settlement.

A new alert or supplies event may open or clear a device problem (backend.notify.devices)
in the same transaction; a duplicate does nothing. Counters and supplies are also kept
as one row per reading (backend.fleet.readings), in the same transaction too."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.api.deps import Context, CurrentTerminal
from backend.api.schemas import EventBatch
from backend.context import BackendContext
from backend.fleet import readings as fleet_readings
from backend.models import Terminal, TerminalEvent
from backend.notify import devices
from backend.notify import print3d as notify_print3d

router = APIRouter(tags=["events"])


@router.post("/events")
def receive_events(body: EventBatch, context: Context,
                   terminal: CurrentTerminal) -> dict[str, Any]:
    try:
        results = _store(context, terminal.id, body)
    except IntegrityError:
        # The same batch resent while the first is still being stored (PostgreSQL): once
        # the first commits, every key is known and the retry only reports duplicates.
        results = _store(context, terminal.id, body)
    accepted = sum(result["status"] == "accepted" for result in results)
    return {"accepted": accepted, "duplicates": len(results) - accepted, "results": results}


def _store(context: BackendContext, terminal_id: str, body: EventBatch) -> list[dict[str, str]]:
    keys = [event.idempotency_key for event in body.events]
    results: list[dict[str, str]] = []
    with context.db.write() as session:
        terminal = session.get(Terminal, terminal_id)
        known = set(session.scalars(select(TerminalEvent.idempotency_key).where(
            TerminalEvent.terminal_id == terminal_id,
            TerminalEvent.idempotency_key.in_(keys))))
        for event in body.events:
            if event.idempotency_key in known:
                results.append({"idempotency_key": event.idempotency_key, "status": "duplicate"})
                continue
            known.add(event.idempotency_key)
            row = TerminalEvent(
                terminal_id=terminal_id, idempotency_key=event.idempotency_key,
                kind=event.kind, occurred_at=event.occurred_at, payload=event.payload)
            session.add(row)
            if terminal is not None:
                fleet_readings.record(session, terminal, row)
            progress = event.progress()
            if progress is not None:
                notify_print3d.progress_reported(
                    session, context.config.notifications, terminal_id, event.occurred_at,
                    progress.job_id, progress.percent, progress.time_left_s)
            # Device problems (an alert, an empty supply) open in the event's transaction.
            devices.on_event(session, context.config, terminal_id, event.kind, event.payload)
            results.append({"idempotency_key": event.idempotency_key, "status": "accepted"})
    return results
