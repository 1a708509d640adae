"""Issue 12 items 9 and 14: user sessions bind user-scoped calls to a card or PIN
presented at this terminal; holds without one are offline holds within the terminal's
limit; logins and card enrolments are rate-limited; revoking voids and ends.

On SQLite and PostgreSQL, like every backend test (ledger invariants checked after each).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from backend_fixtures import SECRET, Backend
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from backend.api.deps import SESSION_HEADER
from backend.app import create_app
from backend.config import SECRET_ENV, BackendConfig
from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN, seed_demo
from backend.models import AuditEntry, Hold, Terminal, TerminalSession, utcnow
from backend.terminals import create_enrolment_key, register_terminal, revoke

OTHER_TOKEN = "other-terminal-token"


def _app(db: Database, **sessions: object) -> Iterator[Backend]:
    config = BackendConfig.model_validate({"database": {"url": str(db.engine.url)},
                                           "sessions": sessions})
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, "EUR")
    with db.write() as session:
        register_terminal(session, SECRET, "kiosk 2", OTHER_TOKEN)
    with TestClient(app) as client:
        yield Backend(config, db, client)


@pytest.fixture
def site(db: Database) -> Iterator[Backend]:
    """A backend with a small login burst, so the rate limit shows within a test."""
    yield from _app(db, login_burst=4, logins_per_minute=6, card_enrolment_burst=2,
                    card_enrolments_per_hour=2)


def _login(site: Backend, card: str = "1001", token: str = DEMO_TERMINAL_TOKEN) -> Any:
    return site.client.post("/api/v1/sessions", json={"card": card},
                            headers=site.headers(token))


def _with(site: Backend, session_token: str | None,
          token: str = DEMO_TERMINAL_TOKEN) -> dict[str, str]:
    headers = site.headers(token)
    if session_token is not None:
        headers[SESSION_HEADER] = session_token
    return headers


def _hold(site: Backend, key: str, amount: str, session_token: str | None,
          username: str = "carol", token: str = DEMO_TERMINAL_TOKEN) -> Any:
    return site.client.post("/api/v1/holds", headers=_with(site, session_token, token), json={
        "idempotency_key": key, "username": username, "amount": amount})


def _refusal(answer: Any) -> tuple[int, str, str]:
    return answer.status_code, answer.json()["code"], answer.json()["detail"]


# --- sessions and enumeration ------------------------------------------------------------

def test_a_login_opens_a_session_that_reads_the_balance(site: Backend) -> None:
    answer = _login(site)
    assert answer.status_code == 200, answer.text
    session = answer.json()["session"]
    assert session["idle_timeout_s"] == 900 and len(session["token"]) >= 40
    balance = site.client.get("/api/v1/users/alice/balance",
                              headers=_with(site, session["token"]))
    assert balance.status_code == 200 and balance.json()["available"] == "15.00"
    with site.db.read() as db_session:
        stored = db_session.scalars(select(TerminalSession.token_hash)).all()
    assert session["token"] not in stored and len(stored) == 1  # keyed hash only


def test_balance_does_not_tell_known_from_unknown_users(site: Backend) -> None:
    known = site.client.get("/api/v1/users/carol/balance", headers=site.headers())
    unknown = site.client.get("/api/v1/users/nobody/balance", headers=site.headers())
    assert _refusal(known) == _refusal(unknown)
    assert _refusal(known)[:2] == (401, "session_required")
    alice = _login(site).json()["session"]["token"]
    known = site.client.get("/api/v1/users/carol/balance", headers=_with(site, alice))
    unknown = site.client.get("/api/v1/users/nobody/balance", headers=_with(site, alice))
    assert _refusal(known) == _refusal(unknown)
    assert _refusal(known)[:2] == (403, "session_other_user")


def test_every_user_scoped_read_needs_the_users_session(site: Backend) -> None:
    alice = _login(site).json()["session"]["token"]
    calls = [("GET", "/api/v1/users/alice/balance", None, None),
             ("GET", "/api/v1/billing-codes", {"username": "alice"}, None),
             ("GET", "/api/v1/users/alice/billing-codes/recent", None, None)]
    for method, path, params, body in calls:
        bare = site.client.request(method, path, params=params, json=body,
                                   headers=site.headers())
        assert _refusal(bare)[:2] == (401, "session_required"), path
        ok = site.client.request(method, path, params=params, json=body,
                                 headers=_with(site, alice))
        assert ok.status_code == 200, (path, ok.text)


def test_a_session_is_bound_to_its_terminal_and_expires(site: Backend) -> None:
    alice = _login(site).json()["session"]["token"]
    elsewhere = site.client.get("/api/v1/users/alice/balance",
                                headers=_with(site, alice, OTHER_TOKEN))
    assert _refusal(elsewhere)[:2] == (403, "session_other_terminal")
    made_up = site.client.get("/api/v1/users/alice/balance",
                              headers=_with(site, "x" * 43))
    assert _refusal(made_up)[:2] == (401, "session_unknown")
    with site.db.write() as session:
        session.execute(update(TerminalSession).values(
            last_used_at=utcnow() - timedelta(seconds=901)))
    expired = site.client.get("/api/v1/users/alice/balance", headers=_with(site, alice))
    assert _refusal(expired)[:2] == (401, "session_expired")


def test_use_keeps_a_session_alive(site: Backend) -> None:
    alice = _login(site).json()["session"]["token"]
    with site.db.write() as session:
        session.execute(update(TerminalSession).values(
            last_used_at=utcnow() - timedelta(seconds=600)))
    assert site.client.get("/api/v1/users/alice/balance",
                           headers=_with(site, alice)).status_code == 200
    with site.db.read() as session:
        last = session.scalar(select(TerminalSession.last_used_at))
    assert last is not None and utcnow() - last < timedelta(seconds=60)


def test_pin_login_and_card_enrolment_open_sessions(site: Backend) -> None:
    by_pin = site.client.post("/api/v1/sessions", json={"username": "bob", "pin": "2345"},
                              headers=site.headers())
    assert by_pin.status_code == 200, by_pin.text
    enrolled = site.client.post("/api/v1/cards/enrol", headers=site.headers(), json={
        "card": "7777", "username": "bob", "pin": "2345"})
    assert enrolled.status_code == 201, enrolled.text
    for answer in (by_pin, enrolled):
        token = answer.json()["session"]["token"]
        assert site.client.get("/api/v1/users/bob/balance",
                               headers=_with(site, token)).status_code == 200


# --- rate limits -----------------------------------------------------------------------

def test_logins_are_rate_limited_per_terminal(site: Backend) -> None:
    answers = [_login(site, card=f"99{n:02}") for n in range(5)]  # unknown cards
    assert [a.status_code for a in answers] == [404, 404, 404, 404, 429]
    limited = answers[-1]
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 10  # 6 a minute: one every 10 s
    pin = site.client.post("/api/v1/sessions", json={"username": "bob", "pin": "0000"},
                           headers=site.headers())
    assert pin.status_code == 429  # PINs count in the same bucket
    assert _login(site, token=OTHER_TOKEN).status_code == 200  # another terminal is not


def test_card_enrolments_are_rate_limited_per_terminal(site: Backend) -> None:
    codes = [site.client.post("/api/v1/cards/enrol", headers=site.headers(), json={
        "card": f"88{n}", "username": "bob", "pin": "0000"}).status_code for n in range(3)]
    assert codes == [401, 401, 429]


# --- offline holds -----------------------------------------------------------------------

def test_without_a_session_a_hold_is_offline_and_capped(site: Backend) -> None:
    """A stolen terminal token is worth the offline limit (5.00 by default) per user,
    not carol's 70.00."""
    assert _refusal(_hold(site, "offline-big-1", "5.01", None))[:2] == (
        403, "offline_limit_exceeded")
    first = _hold(site, "offline-ok-1", "3.00", None)
    assert first.status_code == 201, first.text and first.json()["offline"] is True
    assert _hold(site, "offline-ok-2", "2.00", None).status_code == 201
    assert _refusal(_hold(site, "offline-more-1", "0.01", None))[:2] == (
        403, "offline_limit_exceeded")
    # the other terminal has its own limit; a voided offline hold gives its part back
    assert _hold(site, "offline-t2-1", "5.00", None, token=OTHER_TOKEN).status_code == 201
    void = site.client.post(f"/api/v1/holds/{first.json()['hold_id']}/void",
                            headers=site.headers(), json={"idempotency_key": "void-off-1"})
    assert void.status_code == 200
    assert _hold(site, "offline-again-1", "3.00", None).status_code == 201
    # with carol's session the limit does not apply
    carol = _login(site, card="1003").json()["session"]["token"]
    online = _hold(site, "online-1", "20.00", carol)
    assert online.status_code == 201 and online.json()["offline"] is False
    with site.db.read() as session:
        audited = session.execute(select(AuditEntry.subject, AuditEntry.details).where(
            AuditEntry.action == "hold.offline")).all()
        offline = session.scalars(select(Hold.id).where(Hold.offline.is_(True))).all()
    assert sorted(subject for subject, _ in audited) == sorted(offline) and len(offline) == 4
    assert {details["reason"] for _, details in audited} == {"no_session"}


def test_a_resent_offline_hold_replays_even_past_the_limit(site: Backend) -> None:
    first = _hold(site, "offline-replay-1", "5.00", None)
    again = _hold(site, "offline-replay-1", "5.00", None)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()


def test_a_hold_whose_session_expired_before_the_drain_is_offline(site: Backend) -> None:
    carol = _login(site, card="1003").json()["session"]["token"]
    with site.db.write() as session:
        session.execute(update(TerminalSession).values(
            last_used_at=utcnow() - timedelta(hours=1)))
    late = _hold(site, "late-drain-1", "4.00", carol)
    assert late.status_code == 201, late.text
    assert late.json()["offline"] is True
    assert _refusal(_hold(site, "late-drain-2", "4.00", carol))[:2] == (
        403, "offline_limit_exceeded")
    with site.db.read() as session:
        reason = session.scalar(select(AuditEntry.details).where(
            AuditEntry.action == "hold.offline"))
    assert reason is not None and reason["reason"] == "session_expired"


def test_a_session_of_someone_else_never_charges(site: Backend) -> None:
    alice = _login(site).json()["session"]["token"]
    assert _refusal(_hold(site, "wrong-user-1", "1.00", alice))[:2] == (
        403, "session_other_user")
    assert _refusal(_hold(site, "wrong-term-1", "1.00", alice, "alice", OTHER_TOKEN))[:2] == (
        403, "session_other_terminal")


def test_the_offline_limit_reported_at_enrolment_caps_below_the_sites(site: Backend) -> None:
    with site.db.write() as session:
        low, high = (create_enrolment_key(session, SECRET, actor="admin:test") for _ in "ab")
    tokens = []
    for key, limit in ((low, "2.00"), (high, "50.00")):
        enrolled = site.client.post("/api/v1/terminals/enrol", json={
            "enrolment_key": key, "name": f"kiosk {limit}", "offline_limit": limit})
        assert enrolled.status_code == 201, enrolled.text
        tokens.append(enrolled.json()["token"])
    low_refused = _hold(site, "low-hold-1", "2.01", None, token=tokens[0])
    assert low_refused.status_code == 403, low_refused.text
    assert _hold(site, "low-hold-2", "2.00", None, token=tokens[0]).status_code == 201
    assert _hold(site, "high-hold-1", "5.01", None, token=tokens[1]).status_code == 403
    bad = site.client.post("/api/v1/terminals/enrol", json={
        "enrolment_key": "whatever", "name": "k", "offline_limit": "1e9"})
    assert bad.status_code == 422 and "offline_limit" in bad.json()["detail"]
    assert bad.json()["code"] == "amount_invalid"


# --- revocation -------------------------------------------------------------------------

def test_revoking_voids_open_holds_and_ends_sessions(site: Backend) -> None:
    alice = _login(site).json()["session"]["token"]
    first = _hold(site, "revoke-hold-1", "1.00", alice, "alice")
    _hold(site, "revoke-hold-2", "0.50", None, "bob")
    done = _hold(site, "revoke-hold-3", "2.00", alice, "alice").json()["hold_id"]
    site.client.post(f"/api/v1/holds/{done}/capture", headers=site.headers(),
                     json={"idempotency_key": "revoke-capture-3", "amount": "2.00"})
    other = _hold(site, "revoke-hold-4", "1.00", None, "alice", OTHER_TOKEN)
    with site.db.write() as session:
        terminal = session.scalar(select(Terminal).where(Terminal.name == "demo kiosk"))
        assert terminal is not None
        result = revoke(session, terminal.id, actor="admin:test")
    assert (result.voided_holds, result.voided_amount, result.ended_sessions) == (
        2, Decimal("1.50"), 1)
    with site.db.read() as session:
        statuses = dict(session.execute(select(Hold.id, Hold.status)).tuples().all())
        voided = session.scalars(select(AuditEntry.subject).where(
            AuditEntry.action == "hold.void_revoked")).all()
        revoked = session.scalar(select(AuditEntry.details).where(
            AuditEntry.action == "terminal.revoke"))
        ended = session.scalars(select(TerminalSession.ended_at)).all()
    assert statuses[first.json()["hold_id"]] == "voided" and statuses[done] == "captured"
    assert statuses[other.json()["hold_id"]] == "open"  # another terminal's: untouched
    assert len(voided) == 2 and revoked == {
        "voided_holds": 2, "voided_amount": "1.50", "ended_sessions": 1}
    assert all(at is not None for at in ended)
    # alice's credit is no longer blocked by the dead kiosk: only kiosk 2's hold remains
    balance = site.client.get("/api/v1/users/alice/balance",
                              headers=site.headers(OTHER_TOKEN, user="alice"))
    assert balance.json()["held"] == "1.00"


def test_cli_revoke_says_what_it_voided(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/r.sqlite3"
    config = tmp_path / "backend.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    env = {**os.environ, SECRET_ENV: SECRET.decode()}
    base = [sys.executable, "-m", "printkiosk", "backend", "--config", str(config)]
    seeded = subprocess.run([*base, "--demo-data", "--migrate-only"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert seeded.returncode == 0, seeded.stderr
    db = Database.from_url(url)
    try:
        with db.write() as session:
            register_terminal(session, SECRET, "kiosk-3", "kiosk-3-token")
        app = create_app(BackendConfig.model_validate({"database": {"url": url}}), db, SECRET)
        with TestClient(app) as client:
            backend = Backend(BackendConfig(), db, client)
            for key, amount in (("cli-rev-1", "1.00"), ("cli-rev-2", "0.50")):
                assert _hold(backend, key, amount, backend.session_for("alice", "kiosk-3-token"),
                             "alice", "kiosk-3-token").status_code == 201
        with db.read() as session:
            terminal_id = session.scalar(select(Terminal.id).where(Terminal.name == "kiosk-3"))
    finally:
        db.dispose()
    assert terminal_id is not None
    done = subprocess.run([*base, "revoke", "--terminal", terminal_id], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "revoked kiosk-3; voided 2 open holds (EUR 1.50); ended 1 user session")
