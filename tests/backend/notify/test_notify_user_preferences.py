"""The user's notification preferences through the terminal API: read with the site's
defaults, changed with the user's session only, audited as the user's own change,
wrong inputs refused with what and where; the rules follow the saved choices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from notify_user_helpers import SECRET, charge, mails, notify_config
from sqlalchemy import select

from backend.app import create_app
from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN, seed_demo
from backend.models import AuditEntry, User

TERMINAL = {"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"}
SITE = {"low_balance": {"threshold": "5.00", "margin": "1.00"},
        "transactions": {"default": False}}


@pytest.fixture
def api(db: Database) -> Iterator[TestClient]:
    app = create_app(notify_config(db, **SITE), db, SECRET)
    seed_demo(db, SECRET, "EUR")
    with TestClient(app) as client:
        yield client


def signed_in(api: TestClient, username: str, pin: str) -> dict[str, str]:
    opened = api.post("/api/v1/sessions", headers=TERMINAL,
                      json={"username": username, "pin": pin})
    assert opened.status_code == 200, opened.text
    return {**TERMINAL, "X-Printkiosk-Session": opened.json()["session"]["token"]}


def put(api: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return api.put("/api/v1/users/alice/notifications", headers=headers, json={
        "low_balance_enabled": True, "low_balance_threshold": None,
        "transactions_enabled": False, **body})


def test_read_change_and_audit(api: TestClient, db: Database) -> None:
    alice = signed_in(api, "alice", "1234")
    read = api.get("/api/v1/users/alice/notifications", headers=alice)
    assert read.status_code == 200, read.text
    assert read.json() == {
        "low_balance": {"enabled": True, "threshold": "5.00", "own_threshold": False,
                        "site_threshold": "5.00"},
        "transactions": {"enabled": False}, "email": True, "notifications_enabled": True}
    changed = put(api, alice, low_balance_threshold="12.50", transactions_enabled=True)
    assert changed.status_code == 200, changed.text
    assert changed.json()["low_balance"] == {"enabled": True, "threshold": "12.50",
                                             "own_threshold": True, "site_threshold": "5.00"}
    assert changed.json()["transactions"] == {"enabled": True}
    assert put(api, alice, low_balance_threshold="12.50",
               transactions_enabled=True).status_code == 200  # the same again: no change
    with db.read() as session:
        audit = list(session.scalars(select(AuditEntry).where(
            AuditEntry.action == "user.notifications")))
    assert [(row.actor, row.subject) for row in audit] == [("user:alice", "alice")]
    assert audit[0].details == {
        "low_balance_threshold": {"from": None, "to": "12.50"},
        "transactions_enabled": {"from": None, "to": True},
        "low_balance_enabled": {"from": None, "to": True}}
    assert (audit[0].origin or "").startswith("terminal:")
    charge(db, "alice", "3.00")  # 12.00 < 12.50: her own threshold; and the alert
    assert [row.context["threshold"] for row in mails(db, "low_balance")
            if row.to_address == "alice@example.org"] == ["12.50"]
    assert [row.to_address for row in mails(db, "transactions")] == ["alice@example.org"]


@pytest.mark.parametrize(("threshold", "words"), [
    ("abc", "not an amount"), ("-3", "must be >= 0"), ("1.234", "at most 2 decimals"),
    (1.5, "not a JSON number")])
def test_wrong_thresholds_are_refused(api: TestClient, threshold: object, words: str) -> None:
    refused = put(api, signed_in(api, "alice", "1234"), low_balance_threshold=threshold)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "low_balance_threshold"
    assert words in refused.json()["errors"][0]["message"]


def test_only_with_the_users_own_session(api: TestClient) -> None:
    assert api.get("/api/v1/users/alice/notifications", headers=TERMINAL).status_code == 401
    bob = signed_in(api, "bob", "2345")
    assert api.get("/api/v1/users/alice/notifications", headers=bob).status_code == 403
    assert put(api, bob).status_code == 403


def test_a_user_without_email_is_told(api: TestClient, db: Database) -> None:
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == "alice"))
        assert user is not None
        user.email = None
    alice = signed_in(api, "alice", "1234")
    assert api.get("/api/v1/users/alice/notifications", headers=alice).json()["email"] is False
    before = len(mails(db, "low_balance"))  # the seed's (bob had 2.00 < 5.00)
    charge(db, "alice", "11.00")  # 4.00 < 5.00, but there is nowhere to send it
    assert len(mails(db, "low_balance")) == before
