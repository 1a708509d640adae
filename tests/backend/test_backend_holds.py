"""Authorise / capture / void / refund through the terminal API, with idempotent retries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from backend_fixtures import SECRET, Backend
from sqlalchemy import func, select

from backend.demo import DEMO_TERMINAL_TOKEN
from backend.models import Hold, LedgerTransaction
from backend.terminals import register_terminal


def hold(backend: Backend, key: str, amount: Any = "1.50", username: str = "alice",
         token: str | None = None) -> Any:
    headers = backend.headers(token or DEMO_TERMINAL_TOKEN, user=username)
    return backend.client.post("/api/v1/holds", headers=headers, json={
        "idempotency_key": key, "username": username, "amount": amount,
        "description": "report.pdf, 6 pages", "job_ref": "cups-42"})


def capture(backend: Backend, hold_id: str, key: str, amount: str, **extra: Any) -> Any:
    return backend.client.post(f"/api/v1/holds/{hold_id}/capture", headers=backend.headers(),
                               json={"idempotency_key": key, "amount": amount, **extra})


def balance(backend: Backend, username: str = "alice") -> dict[str, str]:
    answer = backend.client.get(f"/api/v1/users/{username}/balance",
                                headers=backend.headers(user=username))
    return dict(answer.json())


def count(backend: Backend, model: Any) -> int:
    with backend.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_hold_then_capture_less_releases_the_rest(backend: Backend) -> None:
    held = hold(backend, "hold-0001")
    assert held.status_code == 201, held.text
    assert held.json()["balance"]["held"] == "1.50"
    assert held.json()["balance"]["available"] == "13.50"
    hold_id = held.json()["hold_id"]

    done = capture(backend, hold_id, "capture-0001", "1.20", pages=6, colour_pages=2)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["captured"], body["released"]) == ("captured", "1.20", "0.30")
    # Virtual credit is spent first.
    assert body["balance"]["virtual_credit"] == "8.80"
    assert body["balance"]["personal_credit"] == "5.00"
    assert body["balance"]["held"] == "0.00"
    assert body["balance"]["available"] == "13.80"


def test_charge_larger_than_virtual_credit_takes_the_rest_from_personal(
        backend: Backend) -> None:
    held = hold(backend, "hold-0002", amount="12.00")
    done = capture(backend, held.json()["hold_id"], "capture-0002", "11.00")
    assert done.json()["balance"]["virtual_credit"] == "0.00"
    assert done.json()["balance"]["personal_credit"] == "4.00"


def test_retry_returns_the_first_answer_and_charges_once(backend: Backend) -> None:
    first = hold(backend, "hold-retry-1")
    again = hold(backend, "hold-retry-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert count(backend, Hold) == 1
    hold_id = first.json()["hold_id"]
    captured = capture(backend, hold_id, "capture-retry-1", "1.00")
    captured_again = capture(backend, hold_id, "capture-retry-1", "1.00")
    assert captured_again.status_code == 200
    assert captured_again.json() == captured.json()
    with backend.db.read() as session:
        charges = session.scalar(select(func.count()).select_from(LedgerTransaction)
                                 .where(LedgerTransaction.kind == "charge"))
    assert charges == 1
    assert balance(backend)["available"] == "14.00"


def test_same_key_different_request_is_refused(backend: Backend) -> None:
    hold(backend, "hold-reuse-1", amount="1.00")
    other = hold(backend, "hold-reuse-1", amount="2.00")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


def test_insufficient_funds(backend: Backend) -> None:
    refused = hold(backend, "hold-bob-big", amount="2.01", username="bob")
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_funds"
    assert hold(backend, "hold-bob-all", amount="2.00", username="bob").status_code == 201
    assert count(backend, Hold) == 1


def test_overdraft_limit_is_enforced(backend: Backend) -> None:
    from sqlalchemy import update

    from backend.models import User

    with backend.db.write() as session:
        session.execute(update(User).where(User.username == "bob")
                        .values(overdraft_limit=Decimal("3.00")))
    held = hold(backend, "hold-od-1", amount="5.00", username="bob")
    assert held.status_code == 201, held.text
    assert hold(backend, "hold-od-2", amount="0.01", username="bob").status_code == 409
    done = capture(backend, held.json()["hold_id"], "capture-od-1", "5.00")
    assert done.json()["balance"]["virtual_credit"] == "0.00"
    assert done.json()["balance"]["personal_credit"] == "-3.00"
    assert done.json()["balance"]["available"] == "0.00"


def test_capture_more_than_the_hold_is_refused(backend: Backend) -> None:
    held = hold(backend, "hold-0003", amount="1.00")
    refused = capture(backend, held.json()["hold_id"], "capture-0003", "1.01")
    assert refused.status_code == 409 and refused.json()["code"] == "capture_exceeds_hold"
    assert balance(backend)["held"] == "1.00"


def test_void_releases_everything_and_cannot_be_captured_after(backend: Backend) -> None:
    held = hold(backend, "hold-0004", amount="3.00")
    hold_id = held.json()["hold_id"]
    voided = backend.client.post(f"/api/v1/holds/{hold_id}/void", headers=backend.headers(),
                                 json={"idempotency_key": "void-0004"})
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    assert voided.json()["balance"]["available"] == "15.00"
    late = capture(backend, hold_id, "capture-0004", "1.00")
    assert late.status_code == 409 and late.json()["code"] == "hold_settled"


def test_another_terminal_cannot_capture_or_void_my_hold(backend: Backend) -> None:
    with backend.db.write() as session:
        register_terminal(session, SECRET, "kiosk 2", "second-terminal-token")
    held = hold(backend, "hold-0005", amount="2.00")
    hold_id = held.json()["hold_id"]
    other = backend.headers("second-terminal-token")
    stolen = backend.client.post(f"/api/v1/holds/{hold_id}/capture", headers=other,
                                 json={"idempotency_key": "capture-0005", "amount": "2.00"})
    assert stolen.status_code == 403 and stolen.json()["code"] == "hold_other_terminal"
    voided = backend.client.post(f"/api/v1/holds/{hold_id}/void", headers=other,
                                 json={"idempotency_key": "void-0005"})
    assert voided.status_code == 403
    assert balance(backend)["held"] == "2.00"


def test_partial_then_whole_refund_with_reason(backend: Backend) -> None:
    held = hold(backend, "hold-0006", amount="12.00")
    hold_id = held.json()["hold_id"]
    capture(backend, hold_id, "capture-0006", "12.00")  # 10.00 virtual + 2.00 personal
    partial = backend.client.post("/api/v1/refunds", headers=backend.headers(), json={
        "idempotency_key": "refund-0006a", "hold_id": hold_id, "amount": "3.00",
        "reason": "paper jam after page 4"})
    assert partial.status_code == 201, partial.text
    # The user's own money comes back first.
    assert partial.json()["balance"]["personal_credit"] == "5.00"
    assert partial.json()["balance"]["virtual_credit"] == "1.00"
    rest = backend.client.post("/api/v1/refunds", headers=backend.headers(), json={
        "idempotency_key": "refund-0006b", "hold_id": hold_id, "reason": "job failed"})
    assert rest.status_code == 201 and rest.json()["amount"] == "9.00"
    assert rest.json()["balance"]["available"] == "15.00"
    more = backend.client.post("/api/v1/refunds", headers=backend.headers(), json={
        "idempotency_key": "refund-0006c", "hold_id": hold_id, "amount": "0.01",
        "reason": "again"})
    assert more.status_code == 409 and more.json()["code"] == "refund_exceeds_charge"


@pytest.mark.parametrize(
    "amount", ["-1.00", "-0.01", "1.001", "abc", 1.5, "1e9", "NaN", "Infinity", None])
def test_bad_amounts_are_422_and_change_nothing(backend: Backend, amount: Any) -> None:
    before = balance(backend)
    answer = hold(backend, "hold-bad-1", amount=amount)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == "amount_invalid"
    assert problem["errors"][0]["field"] == "amount" and problem["detail"]
    assert balance(backend) == before
    assert count(backend, Hold) == 0


def test_malformed_json_on_a_write_changes_nothing(backend: Backend) -> None:
    answer = backend.client.post("/api/v1/holds", content=b'{"idempotency_key": "k1234567",',
                                 headers={**backend.headers(),
                                          "content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["code"] == "malformed_json"
    assert count(backend, Hold) == 0


def test_unknown_fields_are_refused(backend: Backend) -> None:
    answer = backend.client.post("/api/v1/holds", headers=backend.headers(), json={
        "idempotency_key": "hold-extra-1", "username": "alice", "amount": "1.00",
        "colour": True})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_request"


def test_stale_holds_expire_and_cannot_be_captured_late(backend: Backend) -> None:
    from datetime import timedelta

    from backend.holds_expiry import expire_holds
    from backend.models import utcnow

    old = hold(backend, "hold-old-1", amount="4.00")
    with backend.db.write() as session:
        assert expire_holds(session, utcnow() - timedelta(hours=1), actor="test") == []
        assert expire_holds(session, utcnow() + timedelta(seconds=1), actor="test") == [
            old.json()["hold_id"]]
    assert balance(backend)["held"] == "0.00"
    late = capture(backend, old.json()["hold_id"], "capture-old-1", "4.00")
    assert late.status_code == 409 and late.json()["code"] == "hold_settled"
