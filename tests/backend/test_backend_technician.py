"""Issue 16 (BACK): roles on accounts, the technician audit endpoint and GET /terminals/me,
on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from backend_fixtures import SECRET, Backend
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from backend import roles
from backend.app import create_app
from backend.config import BackendConfig
from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN, seed_demo
from backend.ledger import LedgerError
from backend.models import AuditEntry, User, UserRole
from backend.terminals import authenticate, revoke

REPORTS = "/api/v1/technician/reports"


def _terminal_id(backend: Backend) -> str:
    with backend.db.read() as session:
        return authenticate(session, SECRET, DEMO_TERMINAL_TOKEN).id


def _report(**changes: Any) -> dict[str, Any]:
    return {"key": uuid.uuid4().hex, "technician": "tess", "via": "card",
            "action": "settings.change",
            "details": {"changes": [["printer.queue", "mfp-old", "mfp-new"]]},
            "at": "2026-12-01T20:00:00+00:00", **changes}


def _technician_rows(db: Database) -> list[AuditEntry]:
    with db.read() as session:
        rows = list(session.scalars(select(AuditEntry).where(
            AuditEntry.action.like("technician.%")).order_by(AuditEntry.id)))
        session.expunge_all()
    return rows


# --- roles ----------------------------------------------------------------------------

def test_a_login_answers_the_accounts_roles(backend: Backend) -> None:
    tess = backend.client.post("/api/v1/sessions", json={"card": "1009"},
                               headers=backend.headers())
    assert tess.status_code == 200, tess.text
    assert tess.json()["user"]["roles"] == ["technician"]
    assert tess.json()["user"]["display_name"] == "Tess Technician"
    assert tess.json()["balance"]["available"] == "0.00"  # no credit: she never prints
    by_pin = backend.client.post("/api/v1/sessions", json={"username": "tess", "pin": "9012"},
                                 headers=backend.headers())
    assert by_pin.status_code == 200 and by_pin.json()["user"]["roles"] == ["technician"]
    bob = backend.client.post("/api/v1/sessions", json={"card": "1002"},
                              headers=backend.headers())
    assert bob.json()["user"]["roles"] == []


def test_roles_are_sorted_granted_once_and_revoked_with_an_audit_row(backend: Backend) -> None:
    with backend.db.write() as session:
        assert roles.grant(session, "bob", "technician", "cli:ops").changed
        assert roles.grant(session, "bob", "administrator", "cli:ops").changed
        assert not roles.grant(session, "bob", "administrator", "cli:ops").changed
    answer = backend.client.post("/api/v1/sessions", json={"card": "1002"},
                                 headers=backend.headers())
    assert answer.json()["user"]["roles"] == ["administrator", "technician"]
    with backend.db.write() as session:
        assert roles.revoke(session, "bob", "administrator", "cli:ops").changed
        assert not roles.revoke(session, "bob", "administrator", "cli:ops").changed
        audited = session.execute(select(AuditEntry.actor, AuditEntry.action,
                                         AuditEntry.subject, AuditEntry.details)
                                  .where(AuditEntry.action.like("user.role_%"),
                                         AuditEntry.subject == "bob")
                                  .order_by(AuditEntry.id)).all()
    assert [tuple(row) for row in audited] == [
        ("cli:ops", "user.role_grant", "bob", {"role": "technician"}),
        ("cli:ops", "user.role_grant", "bob", {"role": "administrator"}),
        ("cli:ops", "user.role_revoke", "bob", {"role": "administrator"})]


def test_an_unknown_role_or_user_is_refused(backend: Backend) -> None:
    with backend.db.write() as session:
        with pytest.raises(LedgerError) as role:
            roles.grant(session, "bob", "wizard", "cli:ops")
        with pytest.raises(LedgerError) as user:
            roles.grant(session, "nobody", "technician", "cli:ops")
    assert role.value.code == "role_unknown" and "technician, cashier, administrator, auditor" in \
        role.value.detail
    assert user.value.code == "user_unknown"
    with pytest.raises(ValueError, match="wizard"):
        UserRole(user_id=1, role="wizard")


def test_the_database_itself_refuses_a_role_outside_the_list(backend: Backend) -> None:
    """Whoever writes the table (a script, SQL by hand): the CHECK constraint holds."""
    with pytest.raises(IntegrityError), backend.db.write() as session:
        bob = session.scalar(select(User.id).where(User.username == "bob"))
        session.execute(insert(UserRole).values(user_id=bob, role="root"))


# --- POST /technician/reports ----------------------------------------------------------

def test_a_report_is_one_audit_row_and_a_resend_writes_nothing(backend: Backend) -> None:
    body = _report()
    first = backend.client.post(REPORTS, json=body, headers=backend.headers())
    again = backend.client.post(REPORTS, json=body, headers=backend.headers())
    assert (first.status_code, first.json()) == (201, {"ok": True})
    assert (again.status_code, again.json()) == (200, {"ok": True})
    terminal = _terminal_id(backend)
    [row] = _technician_rows(backend.db)
    assert row.actor == f"technician:tess@terminal:{terminal}"
    assert (row.action, row.subject) == ("technician.settings.change", f"terminal:{terminal}")
    assert row.details == {"changes": [["printer.queue", "mfp-old", "mfp-new"]]}
    # when the technician acted (a kiosk offline for hours reports it later)
    assert row.at == datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def test_a_report_without_a_time_is_dated_now(backend: Backend) -> None:
    answer = backend.client.post(REPORTS, json=_report(at=None, action="test_page",
                                                      details={"queue": "mfp", "job_id": 7}),
                                 headers=backend.headers())
    assert answer.status_code == 201, answer.text
    [row] = _technician_rows(backend.db)
    assert abs(row.at - datetime.now(UTC)) < timedelta(minutes=1)
    assert row.details == {"queue": "mfp", "job_id": 7}


def test_the_same_key_with_another_report_is_refused(backend: Backend) -> None:
    body = _report()
    assert backend.client.post(REPORTS, json=body, headers=backend.headers()).status_code == 201
    other = backend.client.post(REPORTS, json={**body, "action": "reboot"},
                                headers=backend.headers())
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert len(_technician_rows(backend.db)) == 1


@pytest.mark.parametrize("technician, via", [("bob", "card"), ("bob", "pin"),
                                             ("nobody", "pin")])
def test_a_card_or_pin_report_needs_an_account_with_the_role(
        backend: Backend, technician: str, via: str) -> None:
    answer = backend.client.post(REPORTS, json=_report(technician=technician, via=via),
                                 headers=backend.headers())
    assert answer.status_code == 403 and answer.json()["code"] == "not_a_technician"
    assert _technician_rows(backend.db) == []


def test_a_technician_whose_role_was_revoked_is_refused(backend: Backend) -> None:
    with backend.db.write() as session:
        roles.revoke(session, "tess", "technician", "cli:ops")
    answer = backend.client.post(REPORTS, json=_report(), headers=backend.headers())
    assert answer.status_code == 403 and answer.json()["code"] == "not_a_technician"


def test_a_local_pin_report_is_the_kiosks_local_technician(backend: Backend) -> None:
    answer = backend.client.post(REPORTS, json=_report(technician="local-technician",
                                                      via="local_pin", action="reboot",
                                                      details={}),
                                 headers=backend.headers())
    assert answer.status_code == 201, answer.text
    [row] = _technician_rows(backend.db)
    assert row.actor == f"local-technician@terminal:{_terminal_id(backend)}"
    assert row.action == "technician.reboot"


def test_a_technician_with_the_longest_username_is_audited_whole(backend: Backend) -> None:
    """100 characters of username and a 32-character terminal id make a 153-character
    actor: the audit column holds it on PostgreSQL too (it was 100 before 0011)."""
    name = "t" * 100
    with backend.db.write() as session:
        session.add(User(username=name, display_name="Long Name"))
        session.flush()
        roles.grant(session, name, "technician", "cli:ops")
    answer = backend.client.post(REPORTS, json=_report(technician=name),
                                 headers=backend.headers())
    assert answer.status_code == 201, answer.text
    [row] = _technician_rows(backend.db)
    assert row.actor == f"technician:{name}@terminal:{_terminal_id(backend)}"


@pytest.mark.parametrize("change", [{"via": "ssh"}, {"action": "Settings Change"},
                                    {"action": ""}, {"key": "short"}, {"technician": ""},
                                    {"at": "1999-12-31T23:00:00+00:00"},
                                    {"details": {"a": "\x00"}}, {"technician": "te\x1bss"},
                                    {"extra": 1}])
def test_a_malformed_report_is_a_422_naming_the_field(backend: Backend,
                                                      change: dict[str, Any]) -> None:
    answer = backend.client.post(REPORTS, json=_report(**change), headers=backend.headers())
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] in change
    assert _technician_rows(backend.db) == []


def test_a_report_needs_a_terminal_token(backend: Backend) -> None:
    answer = backend.client.post(REPORTS, json=_report())
    assert answer.status_code == 401 and answer.json()["code"] == "terminal_unauthorized"


@pytest.fixture
def limited(db: Database) -> Iterator[Backend]:
    config = BackendConfig.model_validate({
        "database": {"url": str(db.engine.url)},
        "sessions": {"technician_report_burst": 3, "technician_reports_per_hour": 1}})
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, "EUR")
    with TestClient(app) as client:
        yield Backend(config, db, client)


def test_reports_are_rate_limited_per_terminal(limited: Backend) -> None:
    codes = [limited.client.post(REPORTS, json=_report(), headers=limited.headers()).status_code
             for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    refused = limited.client.post(REPORTS, json=_report(), headers=limited.headers())
    assert refused.json()["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
    assert len(_technician_rows(limited.db)) == 3


# --- GET /terminals/me -----------------------------------------------------------------

def test_terminals_me_says_who_the_token_is_and_the_servers_time(backend: Backend) -> None:
    before = datetime.now(UTC)
    answer = backend.client.get("/api/v1/terminals/me", headers=backend.headers())
    after = datetime.now(UTC)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"id", "name", "state", "server_time"}
    assert (body["id"], body["name"]) == (_terminal_id(backend), "demo kiosk")
    assert body["state"] == "connected"  # this very call was its contact
    server_time = datetime.fromisoformat(body["server_time"])
    assert server_time.utcoffset() == timedelta(0)
    assert before <= server_time <= after


def test_terminals_me_is_401_for_an_unknown_or_revoked_token(backend: Backend) -> None:
    unknown = backend.client.get("/api/v1/terminals/me", headers=backend.headers("guess"))
    assert unknown.status_code == 401 and unknown.json()["code"] == "terminal_unauthorized"
    with backend.db.write() as session:
        revoke(session, _terminal_id(backend), actor="cli:ops")
    revoked = backend.client.get("/api/v1/terminals/me", headers=backend.headers())
    assert revoked.status_code == 401 and revoked.json()["code"] == "terminal_revoked"


# --- the technician's PIN goes through the same lockout as anyone's --------------------

def test_a_technicians_wrong_pins_lock_like_anyones(backend: Backend) -> None:
    attempts = backend.config.security.pin_max_attempts
    codes = [backend.client.post("/api/v1/sessions", json={"username": "tess", "pin": "0000"},
                                 headers=backend.headers()).json()["code"]
             for _ in range(attempts)]
    assert codes == ["pin_invalid"] * attempts
    locked = backend.client.post("/api/v1/sessions", json={"username": "tess", "pin": "9012"},
                                 headers=backend.headers())
    assert locked.status_code == 429 and locked.json()["code"] == "pin_locked"


def test_the_demo_idle_screen_lists_the_demo_technician() -> None:
    from printkiosk.commands.demo import demo_cards
    from terminal.ports import DemoCard

    assert DemoCard("1009", "Tess Technician", "tess", "9012") in demo_cards()
