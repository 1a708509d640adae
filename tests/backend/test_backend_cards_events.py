"""Card self-enrolment at the kiosk, and the idempotent events batch."""

from __future__ import annotations

from backend_fixtures import Backend


def test_unknown_card_can_be_linked_after_pin(backend: Backend) -> None:
    wrong = backend.client.post("/api/v1/cards/enrol", headers=backend.headers(),
                                json={"card": "04a1b2c3d4", "username": "bob", "pin": "0000"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "pin_invalid"
    linked = backend.client.post("/api/v1/cards/enrol", headers=backend.headers(),
                                 json={"card": "04a1b2c3d4", "username": "bob", "pin": "2345"})
    assert linked.status_code == 201 and linked.json()["user"]["username"] == "bob"
    session = backend.client.post("/api/v1/sessions", headers=backend.headers(),
                                  json={"card": "04 A1 B2 C3 D4"})
    assert session.status_code == 200 and session.json()["user"]["username"] == "bob"
    taken = backend.client.post("/api/v1/cards/enrol", headers=backend.headers(),
                                json={"card": "04A1B2C3D4", "username": "alice", "pin": "1234"})
    assert taken.status_code == 409 and taken.json()["code"] == "card_already_enrolled"


def _event(key: str, kind: str = "counters") -> dict[str, object]:
    return {"idempotency_key": key, "kind": kind, "occurred_at": "2026-11-23T08:00:00Z",
            "payload": {"total_impressions": 12345}}


def test_events_batch_is_idempotent_per_event(backend: Backend) -> None:
    first = backend.client.post("/api/v1/events", headers=backend.headers(), json={
        "events": [_event("evt-00001"), _event("evt-00002", "alert")]})
    assert first.status_code == 200, first.text
    assert (first.json()["accepted"], first.json()["duplicates"]) == (2, 0)
    resent = backend.client.post("/api/v1/events", headers=backend.headers(), json={
        "events": [_event("evt-00002", "alert"), _event("evt-00003", "job_report")]})
    assert (resent.json()["accepted"], resent.json()["duplicates"]) == (1, 1)
    assert resent.json()["results"][0] == {"idempotency_key": "evt-00002",
                                           "status": "duplicate"}


def test_bad_event_rejects_the_whole_batch(backend: Backend) -> None:
    answer = backend.client.post("/api/v1/events", headers=backend.headers(), json={
        "events": [_event("evt-00010"), {**_event("evt-00011"), "kind": "gossip"}]})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"].startswith(
        "events.1.kind")
    again = backend.client.post("/api/v1/events", headers=backend.headers(),
                                json={"events": [_event("evt-00010")]})
    assert again.json()["accepted"] == 1
