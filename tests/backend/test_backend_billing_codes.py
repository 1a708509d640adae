"""Billing codes: all-or-nothing CSV import with line-numbered errors, dry run,
deactivation, prefix search limited to what the user may use, recents after a charge."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from backend_fixtures import Backend
from sqlalchemy import func, select

from backend.billing_codes import import_csv
from backend.db import Database
from backend.demo import DEMO_CODES
from backend.models import Account, AccountKind, AuditEntry, BillingCode

GOOD = """code,name,parent,active,assigned_to
INITECH,Initech Corp,,true,group:staff
INITECH-WEB,Initech website redesign,INITECH,true,
INITECH-PRINT,Initech print campaign,INITECH,,
LAB,Physics lab,,yes,user:alice
LAB-X,X-ray project,LAB,true,
"""


def _import(db: Database, text: str | bytes, **options: bool) -> object:
    return import_csv(db, text, actor="admin:test", **options)


def _codes(db: Database) -> dict[str, bool]:
    with db.read() as session:
        return {code.code: code.active for code in session.scalars(select(BillingCode))}


def test_import_creates_then_updates_and_deactivates(backend: Backend) -> None:
    report = _import(backend.db, GOOD)
    assert report.applied and sorted(report.created) == [  # type: ignore[attr-defined]
        "INITECH", "INITECH-PRINT", "INITECH-WEB", "LAB", "LAB-X"]
    second = _import(backend.db, "code,name,parent,active\nINITECH-WEB,Website v2,INITECH,true\n"
                     "LAB-X,X-ray project,LAB,false\n", deactivate_missing=False)
    assert second.updated == ["INITECH-WEB"] and second.deactivated == ["LAB-X"]  # type: ignore[attr-defined]
    assert _codes(backend.db)["LAB-X"] is False
    with backend.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "billing_codes.import")) == 2


def test_a_bad_line_changes_nothing_and_every_error_has_its_line(backend: Backend) -> None:
    _import(backend.db, GOOD)
    before = _codes(backend.db)
    bad = ("code,name,parent,active,assigned_to\n"
           "NEW-1,A new client,,true,\n"
           "INITECH-WEB,Renamed,INITECH,maybe,\n"
           ",No code,,true,\n"
           "NEW-2,Orphan project,NOPE,true,\n"
           "NEW-3,Deep project,INITECH-WEB,true,\n"
           "NEW-4,Someone,,true,user:nobody\n"
           "NEW-1,Twice,,true,\n")
    report = _import(backend.db, bad)
    assert not report.applied  # type: ignore[attr-defined]
    assert report.errors == [  # type: ignore[attr-defined]
        "line 3: active: 'maybe' is not true or false",
        "line 4: code: empty",
        "line 5: parent: no billing code 'NOPE'",
        "line 6: parent: 'INITECH-WEB' is a project, not a client (two levels only)",
        "line 7: assigned_to: no user 'nobody'",
        "line 8: code: 'NEW-1' already on line 2",
    ]
    assert _codes(backend.db) == before


def test_dry_run_reports_without_writing(backend: Backend) -> None:
    report = _import(backend.db, GOOD, dry_run=True)
    assert len(report.created) == 5 and not report.applied  # type: ignore[attr-defined]
    assert set(_codes(backend.db)) == {code.code for code in DEMO_CODES}


def test_missing_columns_are_reported_on_line_1(backend: Backend) -> None:
    report = _import(backend.db, "code,title\nA,B\n")
    assert report.errors == [  # type: ignore[attr-defined]
        "line 1: missing column(s): name",
        "line 1: unknown column(s): title (allowed: code, name, parent, active, assigned_to, "
        "payer)",
    ]


def test_every_problem_of_the_file_is_reported_in_one_pass(backend: Backend) -> None:
    """Issue 11 item 9: a bad header does not hide the lines' problems, and a line with a
    bad field still has its parent checked; nothing is written."""
    before = _codes(backend.db)
    report = _import(backend.db, "code,name,parent,active,colour\n"
                                 "P-1,Project,NOPE,maybe,red\n"
                                 "P 2,,,true,\n")
    assert report.errors == [  # type: ignore[attr-defined]
        "line 1: unknown column(s): colour (allowed: code, name, parent, active, "
        "assigned_to, payer)",
        "line 2: active: 'maybe' is not true or false",
        "line 2: parent: no billing code 'NOPE'",
        "line 3: code: 'P 2' must be 1-64 characters without spaces",
        "line 3: name: empty",
    ]
    assert _codes(backend.db) == before


@pytest.mark.parametrize(
    ("username", "query", "expected"),
    [
        # staff group -> client + projects (and the demo's codes)
        ("carol", "", ["ACME", "ACME-PRINT", "ACME-WEB", "GLOBEX-AUDIT", "INITECH",
                       "INITECH-PRINT", "INITECH-WEB"]),
        ("carol", "initech-w", ["INITECH-WEB"]),
        ("carol", "Initech website", ["INITECH-WEB"]),  # name prefix
        ("alice", "", ["ACME-WEB", "LAB", "LAB-X"]),
        ("bob", "", ["ACME-WEB"]),
    ],
)
def test_search_by_prefix_within_assignments(backend: Backend, username: str, query: str,
                                             expected: list[str]) -> None:
    _import(backend.db, GOOD)
    answer = backend.client.get("/api/v1/billing-codes", headers=backend.headers(user=username),
                                params={"username": username, "q": query})
    assert answer.status_code == 200, answer.text
    assert [code["code"] for code in answer.json()["codes"]] == expected


def test_charge_with_a_code_makes_it_recent(backend: Backend) -> None:
    _import(backend.db, GOOD)
    refused = backend.client.post("/api/v1/holds", headers=backend.headers(user="alice"), json={
        "idempotency_key": "hold-code-0", "username": "alice", "amount": "1.00",
        "billing_code": "INITECH-WEB"})
    assert refused.status_code == 404 and refused.json()["code"] == "billing_code_unknown"
    held = backend.client.post("/api/v1/holds", headers=backend.headers(user="alice"), json={
        "idempotency_key": "hold-code-1", "username": "alice", "amount": "1.00",
        "billing_code": "LAB-X"})
    assert held.status_code == 201 and held.json()["billing_code"] == "LAB-X"
    backend.client.post(f"/api/v1/holds/{held.json()['hold_id']}/capture",
                        headers=backend.headers(),
                        json={"idempotency_key": "capture-code-1", "amount": "0.80"})
    recent = backend.client.get("/api/v1/users/alice/billing-codes/recent",
                                headers=backend.headers(user="alice"))
    assert recent.json()["codes"] == [
        {"code": "LAB-X", "name": "X-ray project", "client": "LAB", "client_name": "Physics lab",
         "payer": "user"}]


# --- who pays: the user, or the code's client ---------------------------------------------

PAYING = """code,name,parent,payer,assigned_to
INITECH,Initech Corp,,code,user:bob
INITECH-WEB,Initech website,INITECH,,
INITECH-OWN,"Initech, paid by the user",INITECH,user,
"""


def _hold(backend: Backend, key: str, amount: str, code: str | None,
          username: str = "bob") -> object:
    return backend.client.post("/api/v1/holds", headers=backend.headers(user=username), json={
        "idempotency_key": key, "username": username, "amount": amount,
        "billing_code": code})


def _receivable(backend: Backend, client: str) -> Decimal:
    with backend.db.read() as session:
        code = session.scalar(select(BillingCode).where(BillingCode.code == client))
        assert code is not None
        account = session.scalar(select(Account).where(
            Account.kind == AccountKind.BILLING_CODE_RECEIVABLE,
            Account.billing_code_id == code.id))
        return Decimal("0.00") if account is None else account.balance


def test_a_code_that_pays_charges_its_clients_receivable_not_the_user(
        backend: Backend) -> None:
    report = _import(backend.db, PAYING)
    assert report.applied, report.errors  # type: ignore[attr-defined]
    codes = backend.client.get("/api/v1/billing-codes", headers=backend.headers(user="bob"),
                               params={"username": "bob", "q": "INITECH"}).json()["codes"]
    assert {code["code"]: code["payer"] for code in codes} == {
        "INITECH": "code", "INITECH-OWN": "user", "INITECH-WEB": "code"}  # inherited
    before = backend.client.get("/api/v1/users/bob/balance",
                                headers=backend.headers(user="bob")).json()
    # bob has 2.00: a 30.00 job for the client is not refused for his funds
    held = _hold(backend, "hold-pay-1", "30.00", "INITECH-WEB")
    assert held.status_code == 201, held.text  # type: ignore[attr-defined]
    body = held.json()  # type: ignore[attr-defined]
    assert (body["payer"], body["billing_code"]) == ("code", "INITECH-WEB")
    assert body["balance"] == before  # nothing of bob's is held
    done = backend.client.post(f"/api/v1/holds/{body['hold_id']}/capture",
                               headers=backend.headers(),
                               json={"idempotency_key": "capt-pay-1", "amount": "25.00",
                                     "pages": 100})
    assert done.status_code == 200, done.text
    assert done.json()["payer"] == "code" and done.json()["balance"] == before
    assert _receivable(backend, "INITECH") == Decimal("-25.00")  # the client owes 25.00
    # a refund goes back to the receivable, not to the user
    refund = backend.client.post("/api/v1/refunds", headers=backend.headers(), json={
        "idempotency_key": "refund-pay-1", "hold_id": body["hold_id"], "amount": "5.00",
        "reason": "jam"})
    assert refund.status_code == 201, refund.text
    assert refund.json()["balance"] == before
    assert _receivable(backend, "INITECH") == Decimal("-20.00")
    # a project that says "user" is paid by the user, with the usual funds check
    own = _hold(backend, "hold-pay-2", "2.01", "INITECH-OWN")
    assert own.status_code == 409  # type: ignore[attr-defined]
    paid = _hold(backend, "hold-pay-3", "1.00", "INITECH-OWN")
    assert paid.json()["payer"] == "user"  # type: ignore[attr-defined]
    assert paid.json()["balance"]["held"] == "1.00"  # type: ignore[attr-defined]


def test_the_invariant_check_catches_a_charge_taken_from_the_wrong_payer(
        backend: Backend) -> None:
    """The receivable is covered by the ledger invariants (run after every test): a
    code-paid charge that debited the user's credit instead is reported."""
    from sqlalchemy import update

    from backend.ledger import check_invariants
    from backend.models import Hold

    _import(backend.db, PAYING)
    held = _hold(backend, "hold-wrong-1", "1.00", "INITECH-OWN")
    backend.client.post(f"/api/v1/holds/{held.json()['hold_id']}/capture",  # type: ignore[attr-defined]
                        headers=backend.headers(),
                        json={"idempotency_key": "capt-wrong-1", "amount": "1.00"})
    with backend.db.write() as session:
        session.execute(update(Hold).where(Hold.id == held.json()["hold_id"])  # type: ignore[attr-defined]
                        .values(payer="code"))
        report = check_invariants(session)
        assert len(report.misdirected_charges) == 1 and not report.ok
        session.execute(update(Hold).where(Hold.id == held.json()["hold_id"])  # type: ignore[attr-defined]
                        .values(payer="user"))


def test_payer_column_is_validated_with_its_line(backend: Backend) -> None:
    report = _import(backend.db, "code,name,payer\nX-1,X,client\n")
    assert report.errors == [  # type: ignore[attr-defined]
        "line 2: payer: 'client' is not user or code (or empty: as its client)"]


def test_a_file_without_the_payer_column_keeps_the_setting(backend: Backend) -> None:
    _import(backend.db, "code,name,payer\nX-1,X,code\n")
    again = _import(backend.db, "code,name\nX-1,X renamed\n")
    assert again.updated == ["X-1"]  # type: ignore[attr-defined]
    with backend.db.read() as session:
        code = session.scalar(select(BillingCode).where(BillingCode.code == "X-1"))
        assert code is not None and code.payer == "code"


def test_demo_acme_is_paid_by_the_client(backend: Backend) -> None:
    codes = backend.client.get("/api/v1/billing-codes", headers=backend.headers(user="alice"),
                               params={"username": "alice"}).json()["codes"]
    assert [(code["code"], code["payer"]) for code in codes] == [("ACME-WEB", "code")]


def test_hostile_cells_are_refused_and_nothing_is_written(backend: Backend) -> None:
    """Issue 12 item 11a: NUL, extra values and a non-UTF-8 file are line-numbered errors."""
    before = _codes(backend.db)
    report = _import(backend.db, "code,name,parent\nN-1,Nul\x00,\nN-2,Two,,surplus\nN-3,Ok,\n")
    assert report.errors == [  # type: ignore[attr-defined]
        "line 2: name: contains the control character U+0000 (tabs, line breaks and NUL "
        "are not allowed in a cell)",
        "line 3: 4 values for 3 columns",
    ]
    latin1 = _import(backend.db, "code,name\nCAFE,Café\n".encode("latin-1"))
    assert latin1.errors == [  # type: ignore[attr-defined]
        "line 2: column 9: not UTF-8 (byte 0xe9); save the file as UTF-8 CSV"]
    assert _codes(backend.db) == before


def _cli_config(tmp_path: Path) -> Path:
    """A backend config of its own for a CLI run: a fresh SQLite file and secret key."""
    config = tmp_path / "backend.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/i.sqlite3"\n\n'
                      f'[security]\nsecret_key_file = "{tmp_path}/secret.key"\n',
                      encoding="utf-8")
    return config


def test_cli_reports_a_non_utf8_file_without_a_traceback(tmp_path: Path) -> None:
    config = _cli_config(tmp_path)
    codes = tmp_path / "codes.csv"
    codes.write_bytes("code,name\nACME,ACME\nCAFE,Café\n".encode("latin-1"))
    answer = subprocess.run([sys.executable, "-m", "printkiosk", "backend", "--config",
                             str(config), "import-billing-codes", "--file", str(codes)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert answer.returncode == 2
    assert answer.stderr.splitlines() == [
        "codes.csv: line 3: column 9: not UTF-8 (byte 0xe9); save the file as UTF-8 CSV",
        "nothing imported"]


def test_cli_refuses_a_device_or_a_huge_file_without_reading_it(tmp_path: Path) -> None:
    config = _cli_config(tmp_path)
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as out:
        out.truncate(64 * 1024 * 1024 + 1)  # sparse: no disk written
    for path, reason in ((Path("/dev/zero"), "not a regular file"),
                         (huge, "larger than 64 MiB")):
        answer = subprocess.run([sys.executable, "-m", "printkiosk", "backend", "--config",
                                 str(config), "import-users", "--file", str(path)],
                                capture_output=True, text=True, timeout=60, check=False)
        assert answer.returncode == 2
        assert answer.stderr.splitlines() == [f"{path}: cannot be imported: {reason}",
                                              "nothing imported"]
