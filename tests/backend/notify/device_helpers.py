"""Shared by the device-problem tests: a backend with notifications on, events posted as
a kiosk posts them, and the outbox rows read back and rendered."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from backend_fixtures import SECRET, Backend
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend import roles
from backend.app import create_app
from backend.config import BackendConfig
from backend.db import Database
from backend.demo import seed_demo
from backend.models import DeviceProblem, Notification
from backend.notify.templates import RenderedMail, environment, render

OPS = "ops@example.org"  # the shared mailbox of [notifications] admin_addresses
_keys = itertools.count()


def device_config(db: Database, enabled: bool = True, **devices: Any) -> BackendConfig:
    return BackendConfig.model_validate({
        "database": {"url": str(db.engine.url)},
        "notifications": {"enabled": enabled, "from_address": "print@example.org",
                          "smtp": {"host": "127.0.0.1"}, "admin_addresses": [OPS],
                          "devices": devices}})


@contextmanager
def device_backend(db: Database, enabled: bool = True, config: BackendConfig | None = None,
                   **devices: Any) -> Iterator[Backend]:
    """The demo backend; alice (French) is an administrator, ops@ the shared mailbox
    (``config``: instead of the one made of ``enabled`` and ``devices``)."""
    config = config or device_config(db, enabled, **devices)
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, config.ledger.currency)
    with db.write() as session:
        roles.grant(session, "alice", "administrator", actor="test")
    with TestClient(app) as client:
        yield Backend(config, db, client)


def post_events(backend: Backend, *events: tuple[str, dict[str, Any]] | dict[str, Any],
                ) -> dict[str, Any]:
    """POST /events with each (kind, payload) under a new idempotency key, or an event
    given whole (to resend one)."""
    body = [event if isinstance(event, dict) else new_event(*event) for event in events]
    answer = backend.client.post("/api/v1/events", headers=backend.headers(),
                                 json={"events": body})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def new_event(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"idempotency_key": f"evt-device-{next(_keys):06d}", "kind": kind,
            "occurred_at": datetime.now(UTC).isoformat(), "payload": payload}


def alert(active: Sequence[str], raised: Sequence[str] = (),
          cleared: Sequence[str] = ()) -> tuple[str, dict[str, Any]]:
    """An ``alert`` event as terminal/reporting.py sends it."""
    def entries(codes: Sequence[str]) -> list[dict[str, str]]:
        return [{"code": code, "severity": "warning", "description": code} for code in codes]
    return "alert", {"active": entries(active), "raised": entries(raised),
                     "cleared": entries(cleared)}


def mails(db: Database, kind: str) -> list[Notification]:
    with db.read() as session:
        return list(session.scalars(select(Notification).where(Notification.kind == kind)
                                    .order_by(Notification.id)))


def problems(db: Database) -> list[DeviceProblem]:
    with db.read() as session:
        return list(session.scalars(select(DeviceProblem).order_by(DeviceProblem.id)))


def rendered(row: Notification) -> RenderedMail:
    return render(environment(), row.kind, row.language, row.context, "Europe/Paris")
