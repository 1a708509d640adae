"""Enrolment with a one-time key, token use, revocation."""

from __future__ import annotations

from backend_fixtures import SECRET, Backend

from backend.terminals import create_enrolment_key, revoke


def test_enrol_once_then_use_token_then_revoke(backend: Backend) -> None:
    with backend.db.write() as session:
        key = create_enrolment_key(session, SECRET, actor="admin:test")
    first = backend.client.post("/api/v1/terminals/enrol",
                                json={"enrolment_key": key, "name": "kiosk-lib-1"})
    assert first.status_code == 201, first.text
    token = first.json()["token"]
    again = backend.client.post("/api/v1/terminals/enrol",
                                json={"enrolment_key": key, "name": "kiosk-lib-2"})
    assert again.status_code == 409 and again.json()["code"] == "enrolment_key_used"

    ok = backend.client.post("/api/v1/sessions", json={"card": "1002"},
                             headers=backend.headers(token))
    assert ok.status_code == 200 and ok.json()["user"]["username"] == "bob"

    with backend.db.write() as session:
        revoke(session, first.json()["terminal_id"], actor="admin:test")
    refused = backend.client.post("/api/v1/sessions", json={"card": "1002"},
                                  headers=backend.headers(token))
    assert refused.status_code == 401 and refused.json()["code"] == "terminal_revoked"


def test_unknown_enrolment_key(backend: Backend) -> None:
    answer = backend.client.post("/api/v1/terminals/enrol",
                                 json={"enrolment_key": "guess", "name": "x"})
    assert answer.status_code == 403 and answer.json()["code"] == "enrolment_key_invalid"
