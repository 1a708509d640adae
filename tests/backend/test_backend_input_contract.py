"""Issue 12 items 1, 6 and 13: the API's input contract on holds, captures, refunds, events
and job analyses — on SQLite and PostgreSQL (the ``backend`` fixture runs both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from backend_fixtures import Backend
from sqlalchemy import func, select

from backend.models import Hold, LedgerTransaction, TerminalEvent

# Each was accepted (or a plain-text 500) before: the contract is ^\d{1,7}(\.\d{1,2})?$.
REFUSED_AMOUNTS = ["1e30", "1e3", "1E+2", "1_0", "\u0661\u0662", "+3", " 2.50 ", "2.50 ",
                   "1.500", "-0", "1" * 29, "0x10", "", ".5", "5.", "12345678", "NaN",
                   "2.50\n"]


def _hold(backend: Backend, key: str, amount: Any = "1.50", **extra: Any) -> Any:
    return backend.client.post("/api/v1/holds", headers=backend.headers(user="alice"), json={
        "idempotency_key": key, "username": "alice", "amount": amount, **extra})


def _count(backend: Backend, model: Any) -> int:
    with backend.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _assert_amount_invalid(answer: Any) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "amount_invalid"
    assert answer.json()["errors"][0]["field"] == "amount"


@pytest.mark.parametrize("amount", REFUSED_AMOUNTS)
def test_amounts_outside_the_pattern_are_422_on_hold_capture_refund(
        backend: Backend, amount: str) -> None:
    _assert_amount_invalid(_hold(backend, "hold-bad-0001", amount))
    held = _hold(backend, "hold-good-001", "2.00").json()["hold_id"]
    captured = backend.client.post(f"/api/v1/holds/{held}/capture", headers=backend.headers(),
                                   json={"idempotency_key": "capture-bad-1", "amount": amount})
    _assert_amount_invalid(captured)
    backend.client.post(f"/api/v1/holds/{held}/capture", headers=backend.headers(),
                        json={"idempotency_key": "capture-good-1", "amount": "2.00"})
    refund = backend.client.post("/api/v1/refunds", headers=backend.headers(), json={
        "idempotency_key": "refund-bad-01", "hold_id": held, "amount": amount,
        "reason": "jam"})
    _assert_amount_invalid(refund)
    assert _count(backend, Hold) == 1
    assert _count(backend, LedgerTransaction) > 0  # the demo's credits and the one charge


@pytest.mark.parametrize("amount", ["0", "7", "0.5", "9.99", "1000000", "1000000.00"])
def test_amounts_in_the_pattern_are_accepted(backend: Backend, amount: str) -> None:
    answer = _hold(backend, "hold-ok-00001", amount, billing_code=None)
    # Large ones are refused for funds (409), never for their spelling.
    assert answer.status_code in (201, 409), answer.text


def test_more_than_the_maximum_is_amount_invalid(backend: Backend) -> None:
    _assert_amount_invalid(_hold(backend, "hold-max-0001", "1000000.01"))


CONTROL = ["\x00", "\x01", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9f"]


@pytest.mark.parametrize("char", CONTROL)
def test_control_characters_in_body_text_fields_are_422_naming_the_field(
        backend: Backend, char: str) -> None:
    answer = _hold(backend, "hold-ctl-0001", description=f"report{char}.pdf")
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "description"
    assert "control character" in answer.json()["detail"]
    login = backend.client.post("/api/v1/sessions", headers=backend.headers(),
                                json={"username": f"al{char}ice", "pin": "1234"})
    assert login.status_code == 422 and login.json()["errors"][0]["field"] == "username"
    assert _count(backend, Hold) == 0


def test_control_characters_in_nested_bodies_and_free_json(backend: Backend) -> None:
    estimate = backend.client.post("/api/v1/estimate", headers=backend.headers(), json={
        "print3d": {"material": "PLA\x00", "grams": "1", "minutes": "1"}})
    assert estimate.status_code == 422, estimate.text
    assert estimate.json()["errors"][0]["field"] == "print3d.material"
    event = _event(payload={"message": "toner\x00low"})
    answer = backend.client.post("/api/v1/events", headers=backend.headers(),
                                 json={"events": [event]})
    assert answer.status_code == 422 and "NUL" in answer.json()["detail"], answer.text
    assert _count(backend, TerminalEvent) == 0


@pytest.mark.parametrize("char", ["\x00", "\n", "\x9b"])
def test_control_characters_in_query_and_path_parameters_are_422(
        backend: Backend, char: str) -> None:
    search = backend.client.get("/api/v1/billing-codes", headers=backend.headers(),
                                params={"username": "alice", "q": f"AC{char}"})
    assert search.status_code == 422, search.text
    assert search.json()["errors"][0]["field"] == "query.q"
    path = backend.client.get(f"/api/v1/users/{quote('al' + char + 'ice')}/balance",
                              headers=backend.headers())
    assert path.status_code == 422, path.text
    assert path.json()["errors"][0]["field"] == "path.username"


def _event(**extra: Any) -> dict[str, Any]:
    return {"idempotency_key": "event-00001", "kind": "alert",
            "occurred_at": datetime.now(UTC).isoformat(), "payload": {"code": "jam"}, **extra}


@pytest.mark.parametrize("moment", [0, 1_700_000_000, "1970-01-01T00:00:00Z",
                                    "1999-12-31T23:59:59+00:00",
                                    (datetime.now(UTC) + timedelta(days=2)).isoformat()],
                         # fixed ids: every xdist worker must collect the same test names
                         ids=["zero", "epoch-number", "1970", "1999", "two-days-ahead"])
def test_event_times_before_2000_or_far_ahead_or_numbers_are_422(
        backend: Backend, moment: Any) -> None:
    answer = backend.client.post("/api/v1/events", headers=backend.headers(),
                                 json={"events": [_event(occurred_at=moment)]})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "events.0.occurred_at"
    analysis = backend.client.post("/api/v1/job-analyses", headers=backend.headers(), json={
        "idempotency_key": "analysis-0001", "job_uuid": "urn:uuid:1", "queue": "q",
        "username": "alice", "pages": [{"colour": "mono", "size": "A4"}],
        "analysed_at": moment})
    assert analysis.status_code == 422 and analysis.json()["errors"][0]["field"] == "analysed_at"


def test_event_payload_and_capture_details_are_bounded(backend: Backend) -> None:
    deep: Any = "x"
    for _ in range(20):
        deep = {"d": deep}
    for payload, reason in (({"blob": "x" * 70_000}, "bytes of JSON"), (deep, "deeper")):
        answer = backend.client.post("/api/v1/events", headers=backend.headers(),
                                     json={"events": [_event(payload=payload)]})
        assert answer.status_code == 422 and reason in answer.json()["detail"], answer.text
        assert answer.json()["errors"][0]["field"] == "events.0.payload"
    held = _hold(backend, "hold-det-0001").json()["hold_id"]
    capture = backend.client.post(f"/api/v1/holds/{held}/capture", headers=backend.headers(),
                                  json={"idempotency_key": "capture-det-1", "amount": "1.00",
                                        "details": deep})
    assert capture.status_code == 422 and capture.json()["errors"][0]["field"] == "details"
    assert backend.client.post("/api/v1/events", headers=backend.headers(),
                               json={"events": [_event()]}).status_code == 200


def test_405_carries_allow_and_is_a_problem(backend: Backend) -> None:
    answer = backend.client.get("/api/v1/holds", headers=backend.headers())
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "method_not_allowed"


def test_an_unexpected_exception_is_a_problem_json_500(backend: Backend,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from backend import ledger

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(ledger, "authorise", broken)
    client = TestClient(backend.client.app, raise_server_exceptions=False)
    answer = client.post("/api/v1/holds", headers=backend.headers(), json={
        "idempotency_key": "hold-bug-0001", "username": "alice", "amount": "1.00"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "internal_error" and "a bug" not in answer.text


def test_ids_beyond_a_database_integer_are_422_not_500(backend: Backend) -> None:
    for huge in (2**63, 2**70):
        answer = backend.client.post("/api/v1/refunds", headers=backend.headers(), json={
            "idempotency_key": "refund-huge-1", "transaction_id": huge, "reason": "x"})
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "transaction_id"


def test_nan_in_free_json_is_422_not_a_postgresql_500(backend: Backend) -> None:
    raw = (b'{"events": [{"idempotency_key": "event-nan-001", "kind": "alert", '
           b'"occurred_at": "' + datetime.now(UTC).isoformat().encode() + b'", '
           b'"payload": {"level": NaN}}]}')
    answer = backend.client.post("/api/v1/events", content=raw, headers={
        **backend.headers(), "content-type": "application/json"})
    assert answer.status_code == 422 and "NaN" in answer.json()["detail"], answer.text
    assert _count(backend, TerminalEvent) == 0


@pytest.mark.parametrize("raw", [b'{"idempotency_key": "\xff\xfe"}', b"[" * 100_000],
                         ids=["not-utf8", "too-deep"])
def test_a_body_that_cannot_be_parsed_is_400_malformed_json(backend: Backend,
                                                            raw: bytes) -> None:
    answer = backend.client.post("/api/v1/holds", content=raw, headers={
        **backend.headers(), "content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["code"] == "malformed_json"
