"""Price list and estimate endpoints: billing's precedence and arithmetic, the user's
period volume (included pages), and the price list's own file handed to the kiosk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_fixtures import SECRET, Backend
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.config import BackendConfig, BackendConfigError
from backend.db import Database
from backend.demo import seed_demo
from backend.terminals import create_enrolment_key

DEFAULT = """[price_list]
name = "Test default"
currency = "EUR"
scope = "default"
effective_from = 2026-01-01

[print]
mono = { A4 = { simplex = "0.05", duplex = "0.04" } }
colour = { A4 = "0.25" }

[volume]
functions = ["print"]
included = { mono = 10, colour = 0 }
"""
STAFF = """[price_list]
name = "Test staff"
currency = "EUR"
scope = "group"
target = "staff"
effective_from = 2026-01-01

[print]
mono = { A4 = "0.02" }
colour = { A4 = "0.10" }
"""
MODEL = """[price_list]
name = "Test big MFP"
currency = "EUR"
scope = "device_model"
target = "BigMFP 9000"
effective_from = 2026-01-01

[print]
mono = { A4 = "0.08" }
colour = { A4 = "0.40" }
"""


@pytest.fixture
def priced(db: Database, tmp_path: Path) -> Iterator[Backend]:
    lists = tmp_path / "pricelists"
    lists.mkdir()
    for name, text in (("default.toml", DEFAULT), ("staff.toml", STAFF),
                       ("model.toml", MODEL)):
        (lists / name).write_text(text, encoding="utf-8")
    config = BackendConfig.model_validate({"database": {"url": str(db.engine.url)},
                                           "pricing": {"price_lists_dir": str(lists)}})
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, "EUR")
    with TestClient(app) as client:
        yield Backend(config, db, client)


def _paper(mono: int, colour: int = 0, **extra: object) -> dict[str, object]:
    sides = [{"colour": "mono", "size": "A4", "count": mono}]
    if colour:
        sides.append({"colour": "colour", "size": "A4", "count": colour})
    return {"sides": sides, **extra}


def test_price_list_follows_precedence_and_hands_over_its_file(priced: Backend) -> None:
    anyone = priced.client.get("/api/v1/price-list", headers=priced.headers())
    assert anyone.status_code == 200, anyone.text
    assert anyone.json()["name"] == "Test default" and anyone.json()["toml"] == DEFAULT
    carol = priced.client.get("/api/v1/price-list", headers=priced.headers(user="carol"),
                              params={"username": "carol"})
    assert carol.json()["name"] == "Test staff"
    assert carol.json()["scope"] == {"kind": "group", "target": "staff"}


def test_terminal_beside_a_model_gets_that_models_list(priced: Backend) -> None:
    with priced.db.write() as session:
        key = create_enrolment_key(session, SECRET, actor="admin:test")
    enrolled = priced.client.post("/api/v1/terminals/enrol", json={
        "enrolment_key": key, "name": "kiosk-big", "device_model": "BigMFP 9000"})
    token = enrolled.json()["token"]
    bob = priced.client.get("/api/v1/price-list", headers=priced.headers(token, user="bob"),
                            params={"username": "bob"})
    assert bob.json()["name"] == "Test big MFP"
    carol = priced.client.get("/api/v1/price-list", headers=priced.headers(token, user="carol"),
                              params={"username": "carol"})
    assert carol.json()["name"] == "Test staff"  # a person's list beats a device's


def test_estimate_with_alternatives(priced: Backend) -> None:
    answer = priced.client.post("/api/v1/estimate", headers=priced.headers(),
                                json={"paper": _paper(4, 6, copies=2)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # 8 mono sides all included (10 free), 12 colour sides x 0.25 = 3.00.
    assert body["total"] == "3.00" and body["currency"] == "EUR"
    assert {alt["change"]: alt["total"] for alt in body["alternatives"]}["mono"] == "0.50"


def test_included_pages_are_used_up_by_what_the_user_printed(priced: Backend) -> None:
    def estimate_for_bob() -> str:
        answer = priced.client.post("/api/v1/estimate", headers=priced.headers(user="bob"),
                                    json={"username": "bob", "paper": _paper(10)})
        return str(answer.json()["total"])

    assert estimate_for_bob() == "0.00"
    held = priced.client.post("/api/v1/holds", headers=priced.headers(user="bob"), json={
        "idempotency_key": "hold-vol-1", "username": "bob", "amount": "0.50"})
    priced.client.post(f"/api/v1/holds/{held.json()['hold_id']}/capture",
                       headers=priced.headers(),
                       json={"idempotency_key": "capt-vol-1", "amount": "0.00", "pages": 6})
    assert estimate_for_bob() == "0.30"  # 4 of the 10 free sides left, 6 x 0.05
    # the kiosk gets the same volume with the list, to price exactly as the backend does
    listed = priced.client.get("/api/v1/price-list", headers=priced.headers(user="bob"),
                               params={"username": "bob"})
    assert listed.json()["period_volume"] == {"mono": 6, "colour": 0}
    anyone = priced.client.get("/api/v1/price-list", headers=priced.headers())
    assert anyone.json()["period_volume"] is None


def test_unpriceable_and_malformed_jobs(priced: Backend) -> None:
    copy = priced.client.post("/api/v1/estimate", headers=priced.headers(), json={
        "paper": {"function": "copy", "sides": [{"colour": "mono", "size": "A4", "count": 1}]}})
    assert copy.status_code == 422 and copy.json()["code"] == "job_not_priced"
    odd = priced.client.post("/api/v1/estimate", headers=priced.headers(), json={
        "paper": {"sides": [{"colour": "mono", "size": "B5", "count": 1}]}})
    assert odd.status_code == 422 and "B5" in odd.json()["detail"]
    both = priced.client.post("/api/v1/estimate", headers=priced.headers(), json={})
    assert both.status_code == 422 and both.json()["code"] == "invalid_request"


def test_without_pricing_the_endpoints_say_so(backend: Backend) -> None:
    answer = backend.client.get("/api/v1/price-list", headers=backend.headers())
    assert answer.status_code == 404 and answer.json()["code"] == "pricing_not_configured"


def test_a_bad_price_list_stops_the_start_with_its_problems(db: Database,
                                                            tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(DEFAULT.replace('"0.25"', '"cheap"'), encoding="utf-8")
    config = BackendConfig.model_validate({"database": {"url": str(db.engine.url)},
                                           "pricing": {"price_lists_dir": str(tmp_path)}})
    with pytest.raises(BackendConfigError) as caught:
        create_app(config, db, SECRET)
    assert any("bad.toml" in problem and "cheap" in problem
               for problem in caught.value.problems), caught.value.problems


def test_print3d_without_3d_prices_and_inconsistent_capture_sides(priced: Backend) -> None:
    answer = priced.client.post("/api/v1/estimate", headers=priced.headers(), json={
        "print3d": {"material": "PLA", "grams": "12.5", "minutes": "90"}})
    assert answer.status_code == 422 and answer.json()["code"] == "job_not_priced"
    held = priced.client.post("/api/v1/holds", headers=priced.headers(user="bob"), json={
        "idempotency_key": "hold-sides-1", "username": "bob", "amount": "0.50"})
    bad = priced.client.post(f"/api/v1/holds/{held.json()['hold_id']}/capture",
                             headers=priced.headers(), json={
                                 "idempotency_key": "capt-sides-1", "amount": "0.10",
                                 "pages": 2, "colour_pages": 3})
    assert bad.status_code == 422 and "colour_pages" in bad.json()["detail"]


def test_a_free_job_is_held_captured_and_counted_like_a_paid_one(priced: Backend) -> None:
    """Issue 11 item 1: with free mono pages most jobs cost 0.00; the hold must be taken
    (not ``amount_invalid``) and the pages must count toward the period volume."""
    before = priced.client.get("/api/v1/users/bob/balance",
                               headers=priced.headers(user="bob")).json()
    held = priced.client.post("/api/v1/holds", headers=priced.headers(user="bob"), json={
        "idempotency_key": "hold-free-1", "username": "bob", "amount": "0.00",
        "description": "thesis.pdf, 8 pages"})
    assert held.status_code == 201, held.text
    assert (held.json()["status"], held.json()["amount"]) == ("open", "0.00")
    done = priced.client.post(f"/api/v1/holds/{held.json()['hold_id']}/capture",
                              headers=priced.headers(),
                              json={"idempotency_key": "capt-free-1", "amount": "0.00",
                                    "pages": 8})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["captured"]) == ("captured", "0.00")
    assert done.json()["transaction_id"] is None  # nothing to post: no money moved
    assert done.json()["balance"] == before
    listed = priced.client.get("/api/v1/price-list", headers=priced.headers(user="bob"),
                               params={"username": "bob"})
    assert listed.json()["period_volume"] == {"mono": 8, "colour": 0}
    # 8 of bob's 10 included sides are used: 10 more cost 8 x 0.05
    estimate = priced.client.post("/api/v1/estimate", headers=priced.headers(user="bob"),
                                  json={"username": "bob", "paper": _paper(10)})
    assert estimate.json()["total"] == "0.40"
    # a free hold is voided like any other
    other = priced.client.post("/api/v1/holds", headers=priced.headers(user="bob"), json={
        "idempotency_key": "hold-free-2", "username": "bob", "amount": "0.00"})
    assert other.status_code == 201, other.text
    voided = priced.client.post(f"/api/v1/holds/{other.json()['hold_id']}/void",
                                headers=priced.headers(), json={"idempotency_key": "void-free-2"})
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
