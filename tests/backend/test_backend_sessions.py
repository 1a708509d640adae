"""POST /sessions and GET balance, per the terminal contract, on SQLite and PostgreSQL."""

from __future__ import annotations

from backend_fixtures import Backend


def test_card_identifies_alice_with_her_balance(backend: Backend) -> None:
    answer = backend.client.post("/api/v1/sessions", json={"card": " 1001 "},
                                 headers=backend.headers())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["user"]["username"] == "alice"
    assert body["user"]["display_name"] == "Alice Martin"
    assert body["user"]["language"] == "fr"
    assert body["balance"] == {
        "currency": "EUR", "virtual_credit": "10.00", "personal_credit": "5.00",
        "held": "0.00", "available": "15.00", "overdraft_limit": "0.00",
    }


def test_unknown_card_is_a_404_problem(backend: Backend) -> None:
    answer = backend.client.post("/api/v1/sessions", json={"card": "9999"},
                                 headers=backend.headers())
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "card_unknown"


def test_pin_login_and_lockout(backend: Backend) -> None:
    ok = backend.client.post("/api/v1/sessions", json={"username": "bob", "pin": "2345"},
                             headers=backend.headers())
    assert ok.status_code == 200 and ok.json()["user"]["display_name"] == "Bob Dupont"
    codes = [
        backend.client.post("/api/v1/sessions", json={"username": "bob", "pin": "0000"},
                            headers=backend.headers()).json()["code"]
        for _ in range(backend.config.security.pin_max_attempts)
    ]
    assert codes == ["pin_invalid"] * backend.config.security.pin_max_attempts
    locked = backend.client.post("/api/v1/sessions", json={"username": "bob", "pin": "2345"},
                                 headers=backend.headers())
    assert locked.status_code == 429 and locked.json()["code"] == "pin_locked"


def test_unknown_username_answers_like_a_wrong_pin(backend: Backend) -> None:
    answer = backend.client.post("/api/v1/sessions", json={"username": "nobody", "pin": "1"},
                                 headers=backend.headers())
    assert answer.status_code == 401 and answer.json()["code"] == "pin_invalid"


def test_disabled_user_is_refused(backend: Backend) -> None:
    from sqlalchemy import update

    from backend.models import User

    with backend.db.write() as session:
        session.execute(update(User).where(User.username == "carol").values(status="disabled"))
    answer = backend.client.post("/api/v1/sessions", json={"card": "1003"},
                                 headers=backend.headers())
    assert answer.status_code == 403 and answer.json()["code"] == "user_disabled"


def test_balance_endpoint(backend: Backend) -> None:
    answer = backend.client.get("/api/v1/users/carol/balance", headers=backend.headers())
    assert answer.status_code == 200
    assert answer.json()["available"] == "70.00"
    missing = backend.client.get("/api/v1/users/nobody/balance", headers=backend.headers())
    assert missing.status_code == 404 and missing.json()["code"] == "user_unknown"


def test_terminal_token_is_required(backend: Backend) -> None:
    none = backend.client.post("/api/v1/sessions", json={"card": "1001"})
    wrong = backend.client.post("/api/v1/sessions", json={"card": "1001"},
                                headers=backend.headers("not-a-token"))
    assert none.status_code == wrong.status_code == 401
    assert none.json()["code"] == wrong.json()["code"] == "terminal_unauthorized"


def test_malformed_json_is_a_400_problem(backend: Backend) -> None:
    answer = backend.client.post(
        "/api/v1/sessions", content=b"{not json", headers={
            **backend.headers(), "content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["code"] == "malformed_json"


def test_openapi_documents_the_terminal_api(backend: Backend) -> None:
    paths = backend.client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/sessions", "/api/v1/holds", "/api/v1/holds/{hold_id}/capture",
                 "/api/v1/holds/{hold_id}/void", "/api/v1/refunds", "/api/v1/events",
                 "/api/v1/terminals/enrol", "/api/v1/cards/enrol", "/api/v1/billing-codes",
                 "/api/v1/users/{username}/balance"):
        assert path in paths, path
