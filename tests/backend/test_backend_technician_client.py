"""Issue 16 (BACK): the kiosk's client (terminal.backend_client.HttpBackend) for technician
mode against a real ``printkiosk backend`` process, on SQLite and on PostgreSQL: reports
for the audit log, the terminal status of the backend check, and enrolment."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backend_fixtures import SECRET, Backend, start_backend, stop_backend, write_config
from pg_cluster import free_port
from sqlalchemy import select

from backend.demo import DEMO_TERMINAL_TOKEN
from backend.models import AuditEntry, Terminal
from backend.terminals import authenticate, create_enrolment_key
from terminal.backend_client import HttpBackend, TerminalStatus
from terminal.ports import BackendRejected
from terminal.technician_types import TechnicianReport


@pytest.fixture
def server(backend: Backend, tmp_path: Path) -> Iterator[str]:
    """A backend process over the test's database (seeded by ``backend``)."""
    url = backend.db.engine.url.render_as_string(hide_password=False)
    port = free_port()
    process = start_backend(write_config(tmp_path / "backend.toml", url, port))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_backend(process)


@pytest.fixture
def client(server: str) -> Iterator[HttpBackend]:
    http = HttpBackend(server, DEMO_TERMINAL_TOKEN)
    yield http
    http.close()


def _report(**changes: object) -> TechnicianReport:
    fields: dict[str, object] = {
        "key": uuid.uuid4().hex, "technician": "tess", "via": "card",
        "action": "settings.change",
        "details": {"changes": [("snmp.community", "***", "***")]},
        "at": datetime(2026, 12, 1, 21, 30, tzinfo=UTC), **changes}
    return TechnicianReport(**fields)  # type: ignore[arg-type]


def test_a_report_sent_twice_is_audited_once(backend: Backend, client: HttpBackend) -> None:
    report = _report()
    client.report_technician(report)
    client.report_technician(report)  # the outbox resends after a lost answer
    with backend.db.read() as session:
        terminal = authenticate(session, SECRET, DEMO_TERMINAL_TOKEN).id
        rows = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.details,
                                      AuditEntry.at)
                               .where(AuditEntry.action.like("technician.%"))).all()
    assert [tuple(row) for row in rows] == [
        (f"technician:tess@terminal:{terminal}", "technician.settings.change",
         {"changes": [["snmp.community", "***", "***"]]},
         datetime(2026, 12, 1, 21, 30, tzinfo=UTC))]


def test_a_report_by_someone_without_the_role_is_a_final_refusal(client: HttpBackend) -> None:
    with pytest.raises(BackendRejected) as refused:
        client.report_technician(_report(technician="bob", via="pin"))
    assert (refused.value.code, refused.value.status, refused.value.final) == (
        "not_a_technician", 403, True)


def test_a_local_pin_report_without_a_time(backend: Backend, client: HttpBackend) -> None:
    client.report_technician(_report(technician="local-technician", via="local_pin",
                                     action="test_page", details={"queue": "mfp"}, at=None))
    with backend.db.read() as session:
        actor = session.scalar(select(AuditEntry.actor).where(
            AuditEntry.action == "technician.test_page"))
    assert actor is not None and actor.startswith("local-technician@terminal:")


def test_terminal_status_is_the_terminal_and_the_backends_clock(
        backend: Backend, client: HttpBackend) -> None:
    before = datetime.now(UTC)
    status = client.terminal_status()
    after = datetime.now(UTC)
    with backend.db.read() as session:
        terminal = authenticate(session, SECRET, DEMO_TERMINAL_TOKEN)
    assert isinstance(status, TerminalStatus)
    assert (status.id, status.name, status.state) == (terminal.id, "demo kiosk", "connected")
    assert status.server_time.tzinfo is not None
    # one machine, one clock: within the call's own duration
    assert before - timedelta(seconds=1) <= status.server_time <= after + timedelta(seconds=1)


def test_terminal_status_with_a_bad_token_is_a_401_refusal(server: str) -> None:
    http = HttpBackend(server, "not-a-token")
    try:
        with pytest.raises(BackendRejected) as refused:
            http.terminal_status()
    finally:
        http.close()
    assert (refused.value.code, refused.value.status) == ("terminal_unauthorized", 401)
    assert not refused.value.final  # a token problem, not the request's: kept by an outbox


def test_enrol_with_a_real_key_gives_a_token_that_works(backend: Backend, server: str) -> None:
    with backend.db.write() as session:
        key = create_enrolment_key(session, SECRET, actor="cli:ops")
    fresh = HttpBackend(server, "")  # a kiosk not enrolled yet has no token
    try:
        terminal_id, token = fresh.enrol_terminal(f" {key}\n", "lobby kiosk")
        with pytest.raises(BackendRejected) as spent:
            fresh.enrol_terminal(key, "lobby kiosk")
        with pytest.raises(BackendRejected) as unknown:
            fresh.enrol_terminal("not-a-key", "lobby kiosk")
    finally:
        fresh.close()
    assert (spent.value.code, spent.value.status) == ("enrolment_key_used", 409)
    assert (unknown.value.code, unknown.value.status) == ("enrolment_key_invalid", 403)
    enrolled = HttpBackend(server, token)
    try:
        status = enrolled.terminal_status()
    finally:
        enrolled.close()
    assert (status.id, status.name) == (terminal_id, "lobby kiosk")
    with backend.db.read() as session:
        assert session.get_one(Terminal, terminal_id).name == "lobby kiosk"


def test_a_technician_is_identified_with_the_role_and_locked_like_anyone(
        backend: Backend, client: HttpBackend) -> None:
    """What the kiosk's session controller gets: the role on the Identity, by card and by
    PIN; and a technician's wrong PINs lock the username like anyone's."""
    assert client.identify_card("1009").roles == ("technician",)
    assert client.identify_pin("tess", "9012").roles == ("technician",)
    assert client.identify_card("1002").roles == ()
    codes = []
    for _ in range(backend.config.security.pin_max_attempts):
        with pytest.raises(BackendRejected) as wrong:
            client.identify_pin("tess", "0000")
        codes.append(wrong.value.code)
    assert codes == ["pin_invalid"] * backend.config.security.pin_max_attempts
    with pytest.raises(BackendRejected) as locked:
        client.identify_pin("tess", "9012")
    assert (locked.value.code, locked.value.status) == ("pin_locked", 429)
