"""Billing codes: all-or-nothing CSV import with line-numbered errors, dry run,
deactivation, prefix search limited to what the user may use, recents after a charge."""

from __future__ import annotations

import pytest
from backend_fixtures import Backend
from sqlalchemy import func, select

from backend.billing_codes import import_csv
from backend.db import Database
from backend.models import AuditEntry, BillingCode

GOOD = """code,name,parent,active,assigned_to
ACME,ACME Corp,,true,group:staff
ACME-WEB,ACME website redesign,ACME,true,
ACME-PRINT,ACME print campaign,ACME,,
LAB,Physics lab,,yes,user:alice
LAB-X,X-ray project,LAB,true,
"""


def _import(db: Database, text: str, **options: bool) -> object:
    with db.write() as session:
        return import_csv(session, text, actor="admin:test", **options)


def _codes(db: Database) -> dict[str, bool]:
    with db.read() as session:
        return {code.code: code.active for code in session.scalars(select(BillingCode))}


def test_import_creates_then_updates_and_deactivates(backend: Backend) -> None:
    report = _import(backend.db, GOOD)
    assert report.applied and sorted(report.created) == [  # type: ignore[attr-defined]
        "ACME", "ACME-PRINT", "ACME-WEB", "LAB", "LAB-X"]
    second = _import(backend.db, "code,name,parent,active\nACME-WEB,Website v2,ACME,true\n"
                     "LAB-X,X-ray project,LAB,false\n", deactivate_missing=False)
    assert second.updated == ["ACME-WEB"] and second.deactivated == ["LAB-X"]  # type: ignore[attr-defined]
    assert _codes(backend.db)["LAB-X"] is False
    with backend.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "billing_codes.import")) == 2


def test_a_bad_line_changes_nothing_and_every_error_has_its_line(backend: Backend) -> None:
    _import(backend.db, GOOD)
    before = _codes(backend.db)
    bad = ("code,name,parent,active,assigned_to\n"
           "NEW-1,A new client,,true,\n"
           "ACME-WEB,Renamed,ACME,maybe,\n"
           ",No code,,true,\n"
           "NEW-2,Orphan project,NOPE,true,\n"
           "NEW-3,Deep project,ACME-WEB,true,\n"
           "NEW-4,Someone,,true,user:nobody\n"
           "NEW-1,Twice,,true,\n")
    report = _import(backend.db, bad)
    assert not report.applied  # type: ignore[attr-defined]
    assert report.errors == [  # type: ignore[attr-defined]
        "line 3: active: 'maybe' is not true or false",
        "line 4: code: empty",
        "line 7: assigned_to: no user 'nobody'",
        "line 8: code: 'NEW-1' already on line 2",
        "line 5: parent: no billing code 'NOPE'",
        "line 6: parent: 'ACME-WEB' is a project, not a client (two levels only)",
    ]
    assert _codes(backend.db) == before


def test_dry_run_reports_without_writing(backend: Backend) -> None:
    report = _import(backend.db, GOOD, dry_run=True)
    assert len(report.created) == 5 and not report.applied  # type: ignore[attr-defined]
    assert _codes(backend.db) == {}


def test_missing_columns_are_reported_on_line_1(backend: Backend) -> None:
    report = _import(backend.db, "code,title\nA,B\n")
    assert report.errors == [  # type: ignore[attr-defined]
        "line 1: missing column(s): name",
        "line 1: unknown column(s): title (allowed: code, name, parent, active, assigned_to)",
    ]


@pytest.mark.parametrize(
    ("username", "query", "expected"),
    [
        ("carol", "", ["ACME", "ACME-PRINT", "ACME-WEB"]),  # staff group -> client + projects
        ("carol", "acme-w", ["ACME-WEB"]),
        ("carol", "ACME website", ["ACME-WEB"]),  # name prefix
        ("alice", "", ["LAB", "LAB-X"]),
        ("bob", "", []),
    ],
)
def test_search_by_prefix_within_assignments(backend: Backend, username: str, query: str,
                                             expected: list[str]) -> None:
    _import(backend.db, GOOD)
    answer = backend.client.get("/api/v1/billing-codes", headers=backend.headers(),
                                params={"username": username, "q": query})
    assert answer.status_code == 200, answer.text
    assert [code["code"] for code in answer.json()["codes"]] == expected


def test_charge_with_a_code_makes_it_recent(backend: Backend) -> None:
    _import(backend.db, GOOD)
    refused = backend.client.post("/api/v1/holds", headers=backend.headers(), json={
        "idempotency_key": "hold-code-0", "username": "alice", "amount": "1.00",
        "billing_code": "ACME-WEB"})
    assert refused.status_code == 404 and refused.json()["code"] == "billing_code_unknown"
    held = backend.client.post("/api/v1/holds", headers=backend.headers(), json={
        "idempotency_key": "hold-code-1", "username": "alice", "amount": "1.00",
        "billing_code": "LAB-X"})
    assert held.status_code == 201 and held.json()["billing_code"] == "LAB-X"
    backend.client.post(f"/api/v1/holds/{held.json()['hold_id']}/capture",
                        headers=backend.headers(),
                        json={"idempotency_key": "capture-code-1", "amount": "0.80"})
    recent = backend.client.get("/api/v1/users/alice/billing-codes/recent",
                                headers=backend.headers())
    assert recent.json()["codes"] == [
        {"code": "LAB-X", "name": "X-ray project", "client": "LAB", "client_name": "Physics lab"}]
