"""The bank_transfer gateway and the statement import (issue 14): a GiroCode per top-up,
camt.053 (001.02 and 001.08) and CSV statements matched to top-ups by their RF reference,
credited once however often the statement is imported, the rest listed for the cash desk;
bad and hostile files refused with nothing changed. SQLite and PostgreSQL, ledger
invariants checked after each test by the ``db`` fixture."""

from __future__ import annotations

import ast
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from backend_fixtures import SECRET, Backend
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from statement_files import Credit, camt053
from topup_helpers import personal, status, user_id

from backend import ledger, topups
from backend.app import create_app
from backend.config import BackendConfig, BankTransferSettings
from backend.db import Database
from backend.demo import seed_demo
from backend.ledger import LedgerError
from backend.models import AuditEntry, TopUp, TopUpEvent, UnmatchedStatementLine
from backend.payments.bank_transfer import BankTransferGateway
from backend.payments.epc_qr import parse_payload
from backend.payments.gateway import GatewayError
from backend.payments.registry import make_gateway
from backend.payments.statement_import import ImportReport, import_statement, unmatched_lines
from backend.payments.statements import StatementRefused, parse_statement

BANK = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "bank"
IBAN = "DE89370400440532013000"
GATEWAY = BankTransferGateway(BankTransferSettings(
    iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX",
    beneficiary="Bibliotheque universitaire"))


def bank_top_up(db: Database, amount: str = "5.00", username: str = "bob",
                minutes: int = 10) -> TopUp:
    """A top-up made as the API makes one: created, then the gateway's payment attached."""
    with db.write() as session:
        user = ledger.lock_user(session, user_id(db, username))
        top_up = topups.create_top_up(session, SECRET, user=user, terminal_id=None,
                                      amount=Decimal(amount), currency="EUR",
                                      gateway_name=GATEWAY.name,
                                      expire_after=timedelta(minutes=minutes))
        created = GATEWAY.create_payment(top_up.public_id, top_up.amount, "EUR",
                                         "Printkiosk top-up", "http://192.0.2.10/topup")
        topups.attach_payment(session, top_up, created,
                              topups.url_token(SECRET, top_up.public_id))
        session.expunge(top_up)
    return top_up


def run_import(db: Database, data: bytes, dry_run: bool = False) -> ImportReport:
    return import_statement(db, data, file_name="stmt.xml", actor="cli:clerk",
                            dry_run=dry_run)


def table_counts(db: Database) -> tuple[int, int, int]:
    with db.read() as session:
        return (session.scalar(select(func.count()).select_from(UnmatchedStatementLine)) or 0,
                session.scalar(select(func.count()).select_from(TopUpEvent)) or 0,
                session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def spaced(reference: str) -> str:
    return " ".join(reference[i:i + 4] for i in range(0, len(reference), 4)).lower()


# --- the adapter ---------------------------------------------------------------------

def test_create_payment_gives_the_girocode_with_the_top_ups_reference() -> None:
    created = GATEWAY.create_payment("T-3F9A0C11BE", Decimal("12.50"), "EUR",
                                     "Printkiosk top-up 7Q3WZ9", "http://192.0.2.10/t")
    assert created.qr_payload is not None
    girocode = parse_payload(created.qr_payload.encode())
    assert girocode.iban == IBAN and girocode.bic == "COBADEFFXXX"
    assert girocode.beneficiary == "Bibliotheque universitaire"
    assert girocode.amount == Decimal("12.50") and girocode.remittance == ""
    assert girocode.reference == created.gateway_payment_id == GATEWAY.reference("T-3F9A0C11BE")
    assert girocode.information == "Printkiosk top-up 7Q3WZ9"
    assert created.pay_url == ""  # no page to pay on: the API answers pay_url null
    assert GATEWAY.parse_webhook(b"{}", {}) is None
    assert GATEWAY.fetch_status(created.gateway_payment_id).state == "pending"


def test_only_euros_and_amounts_a_girocode_can_carry() -> None:
    with pytest.raises(GatewayError, match="in euros, not CHF"):
        GATEWAY.create_payment("T-1", Decimal("5.00"), "CHF", "x", "http://h/")
    with pytest.raises(GatewayError, match="element 8"):
        GATEWAY.create_payment("T-1", Decimal("0.00"), "EUR", "x", "http://h/")


@pytest.mark.parametrize(("settings", "says"), [
    ({"beneficiary": "B"}, "payments.bank_transfer.iban: required"),
    ({"iban": "DE89370400440532013001", "beneficiary": "B"}, "check digits"),
    ({"iban": IBAN, "beneficiary": "B", "bic": "COBA"}, "payments.bank_transfer.bic"),
    ({"iban": IBAN}, "payments.bank_transfer.beneficiary"),
    ({"iban": IBAN, "beneficiary": "B", "remittance_prefix": "P-K"}, "remittance_prefix"),
])
def test_a_wrong_account_in_the_configuration_is_refused(settings: dict[str, str],
                                                         says: str) -> None:
    with pytest.raises(GatewayError, match=says):
        BankTransferGateway(BankTransferSettings(**settings))


ACCOUNT = {"iban": "DE89 3704 0044 0532 0130 00", "beneficiary": "Bibliotheque universitaire"}


@pytest.fixture
def banking(db: Database) -> Iterator[Backend]:
    """A backend whose gateway is bank_transfer, built by the registry from the config."""
    config = BackendConfig.model_validate({
        "database": {"url": str(db.engine.url)},
        "payments": {"gateway": "bank_transfer", "bank_transfer": ACCOUNT}})
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, config.ledger.currency)
    with TestClient(app) as client:
        yield Backend(config, db, client)


def test_the_kiosk_gets_the_girocode_and_the_balance_after_the_statement(
        banking: Backend) -> None:
    before = personal(banking.db, "bob")
    answer = banking.client.post("/api/v1/topups", headers=banking.headers(user="bob"),
                                 json={"amount": "5.00", "idempotency_key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.text
    top_up = answer.json()["topup"]
    assert top_up["pay_url"] is None  # nothing to open: the banking app pays
    girocode = parse_payload(top_up["qr_payload"].encode())
    assert (girocode.iban, girocode.amount) == (IBAN, Decimal("5.00"))
    assert girocode.reference == GATEWAY.reference(top_up["id"])
    waited = banking.client.get(f"/api/v1/topups/{top_up['id']}?wait_s=0",
                                headers=banking.headers(user="bob"))
    assert waited.json()["topup"]["status"] == "pending"
    run_import(banking.db, camt053([Credit("5.00", "B-9", structured=girocode.reference)]))
    waited = banking.client.get(f"/api/v1/topups/{top_up['id']}?wait_s=0",
                                headers=banking.headers(user="bob"))
    assert waited.json()["topup"]["status"] == "paid"
    assert Decimal(waited.json()["balance"]["personal_credit"]) == before + Decimal("5.00")


def test_the_server_refuses_a_bank_transfer_config_with_a_wrong_iban() -> None:
    wrong = {**ACCOUNT, "iban": "DE89370400440532013001"}
    config = BackendConfig.model_validate({"payments": {"gateway": "bank_transfer",
                                                        "bank_transfer": wrong}})
    with pytest.raises(GatewayError, match=r"payments\.bank_transfer\.iban: .*check digits"):
        make_gateway(config, SECRET)


def test_a_refund_is_refused_with_the_reason_and_changes_nothing(backend: object,
                                                                db: Database) -> None:
    top_up = bank_top_up(db, "5.00")
    assert top_up.gateway_payment_id is not None
    run_import(db, camt053([Credit("5.00", "B-1", structured=top_up.gateway_payment_id)]))
    paid = personal(db, "bob")
    with pytest.raises(GatewayError, match="refunded by the cash desk"), db.write() as session:
        topups.refund_top_up(session, top_up, GATEWAY, None, "asked", "cli:clerk")
    assert personal(db, "bob") == paid and status(db, top_up).status == "paid"


# --- statement import -----------------------------------------------------------------

@pytest.mark.parametrize("version", ["02", "08"])
def test_camt053_three_credits_two_match_and_a_reimport_credits_nothing(
        backend: object, db: Database, version: str) -> None:
    first, second = bank_top_up(db, "5.00"), bank_top_up(db, "20.00", minutes=-1)  # expired
    assert first.gateway_payment_id and second.gateway_payment_id
    topups.expire_top_ups(db)
    before = personal(db, "bob")
    statement = camt053([
        Credit("5.00", "BANK-0001", structured=first.gateway_payment_id),
        # typed by hand in the free text, in groups and small letters
        Credit("20.00", "BANK-0002",
               unstructured=f"printkiosk {spaced(second.gateway_payment_id)}"),
        Credit("7.00", "BANK-0003", unstructured="Membership fee December"),
        Credit("30.00", "BANK-0004", indicator="DBIT"),
    ], version)
    report = run_import(db, statement)
    assert [o.result for o in report.outcomes] == ["credited", "late", "unmatched", "not_a_credit"]
    assert personal(db, "bob") == before + Decimal("25.00")
    assert status(db, first).status == "paid" and status(db, second).late
    with db.read() as session:
        listed = unmatched_lines(session)
        assert [(row.amount, row.reason, row.remittance, row.payer, top_up)
                for row, top_up in listed] == [
            (Decimal("7.00"), "no_reference", "Membership fee December", "Jean Dupont", None)]
    counts = table_counts(db)

    again = run_import(db, statement)
    assert [o.result for o in again.outcomes] == ["duplicate", "duplicate", "already_listed",
                                                  "not_a_credit"]
    assert personal(db, "bob") == before + Decimal("25.00")
    unmatched, events, audits = table_counts(db)
    assert (unmatched, events) == counts[:2] and audits == counts[2] + 1  # the import itself


def test_a_wrong_amount_or_an_unknown_reference_is_listed_not_credited(
        backend: object, db: Database) -> None:
    top_up = bank_top_up(db, "10.00")
    assert top_up.gateway_payment_id
    before = personal(db, "bob")
    unknown = GATEWAY.reference("T-0000000000")
    run_import(db, camt053([Credit("9.00", "B-1", structured=top_up.gateway_payment_id),
                            Credit("3.00", "B-2", structured=unknown)]))
    assert personal(db, "bob") == before
    assert status(db, top_up).status == "mismatch"
    with db.read() as session:
        assert [(row.reason, row.amount, public_id) for row, public_id in unmatched_lines(session)
                ] == [("amount_mismatch", Decimal("9.00"), top_up.public_id),
                      ("unknown_reference", Decimal("3.00"), None)]


def test_a_second_payment_of_a_paid_top_up_is_listed(backend: object, db: Database) -> None:
    top_up = bank_top_up(db, "5.00")
    assert top_up.gateway_payment_id
    run_import(db, camt053([Credit("5.00", "B-1", structured=top_up.gateway_payment_id)]))
    paid = personal(db, "bob")
    report = run_import(db, camt053([Credit("5.00", "B-2",
                                            structured=top_up.gateway_payment_id)]))
    assert [(o.result, o.reason) for o in report.outcomes] == [("unmatched", "already_paid")]
    assert personal(db, "bob") == paid


def test_dry_run_says_what_would_happen_and_writes_nothing(backend: object,
                                                         db: Database) -> None:
    top_up = bank_top_up(db, "5.00")
    assert top_up.gateway_payment_id
    before, counts = personal(db, "bob"), table_counts(db)
    report = run_import(db, camt053([Credit("5.00", "B-1", structured=top_up.gateway_payment_id),
                                     Credit("1.00", "B-2")]), dry_run=True)
    assert [(o.result, o.reason) for o in report.outcomes] == [("credited", None),
                                                               ("unmatched", "no_reference")]
    assert personal(db, "bob") == before and table_counts(db) == counts
    assert status(db, top_up).status == "pending"


def test_csv_statement_matches_like_camt(backend: object, db: Database) -> None:
    top_up = bank_top_up(db, "5.00")
    assert top_up.gateway_payment_id
    before = personal(db, "bob")
    data = ("date,amount,currency,reference,payer_name,bank_transaction_id\n"
            f"2026-12-01,5.00,EUR,{spaced(top_up.gateway_payment_id)},Jean Dupont,TX1\n"
            "2026-12-01,-12.00,EUR,rent,Landlord,TX2\n"
            "2026-12-01,4.00,EUR,no idea,Marie Curie,TX3\n").encode()
    report = run_import(db, data)
    assert [o.result for o in report.outcomes] == ["credited", "not_a_credit", "unmatched"]
    assert personal(db, "bob") == before + Decimal("5.00")
    assert [o.result for o in run_import(db, data).outcomes] == [
        "duplicate", "not_a_credit", "already_listed"]


@pytest.mark.parametrize(("data", "says"), [
    (b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'><BkToCstmrStmt>"
     b"\n<Stmt></BkToCstmrStmt>", "line 2, column .*: not well-formed XML"),
    (b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.03'/>", "pain.001"),
    (camt053([Credit("5,00", "B-1")]), r"entry 1: <Amt Ccy='EUR'>5,00</Amt>"),
    (camt053([Credit("5.00", "B-1", indicator="CREDIT")]), "entry 1: <CdtDbtInd> 'CREDIT'"),
    (camt053([Credit("5.00001", "B-1")]), "entry 1: <Amt>5.00001</Amt> has more decimals"),
    (b"date,amount,currency,reference,payer_name\n", "missing bank_transaction_id"),
    (b"date,amount,currency,reference,payer_name,bank_transaction_id\n"
     b"2026-12-01,5.00,EUR,x,y,T1\n2026-12-01,5.0.0,EUR,x,y,T2\n", "line 3: amount '5.0.0'"),
    (b"date,amount,currency,reference,payer_name,bank_transaction_id\n"
     b"01/12/2026,5.00,EUR,x,y,T1\n", "line 2: date '01/12/2026'"),
    (b"date,amount,currency,reference,payer_name,bank_transaction_id\n"
     b"2026-12-01,5.00,EUR,x,y,T1\n2026-12-01,6.00,EUR,x,y,T1\n", "line 3: .*second time"),
])
def test_a_bad_file_is_refused_saying_where_and_changes_nothing(
        backend: object, db: Database, data: bytes, says: str) -> None:
    top_up = bank_top_up(db, "5.00")
    counts = table_counts(db)
    with pytest.raises(StatementRefused, match=says):
        run_import(db, data)
    assert table_counts(db) == counts and status(db, top_up).status == "pending"


def test_an_error_half_way_rolls_the_whole_import_back(backend: object, db: Database,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = bank_top_up(db, "5.00"), bank_top_up(db, "6.00")
    assert first.gateway_payment_id and second.gateway_payment_id
    before, counts = personal(db, "bob"), table_counts(db)
    real = topups.settle_top_up
    calls = []

    def failing_second(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise LedgerError("boom", "the database went away")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(topups, "settle_top_up", failing_second)
    with pytest.raises(LedgerError):
        run_import(db, camt053([Credit("5.00", "B-1", structured=first.gateway_payment_id),
                                Credit("6.00", "B-2", structured=second.gateway_payment_id)]))
    assert personal(db, "bob") == before and table_counts(db) == counts
    assert status(db, first).status == "pending"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol3;</Document>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY leak SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&leak;</Document>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL])
def test_hostile_xml_with_entities_is_refused(data: bytes) -> None:
    with pytest.raises(StatementRefused, match=r"line 2, column \d+: a DOCTYPE declaration"):
        parse_statement(data)


# --- the corpus: real camt files -------------------------------------------------------

@pytest.mark.parametrize(("name", "golden"), [
    ("oca__test-camt053", "oca__golden-camt053.pydata"),
    ("oca__test-camt053-txdtls", "oca__golden-camt053-txdtls.pydata"),
    ("oca__test-camt054", "oca__golden-camt054.pydata"),
])
def test_corpus_statements_parse_as_the_oca_importer_expects(name: str, golden: str) -> None:
    expected = ast.literal_eval((BANK / golden).read_text())
    transactions = [tx for statement in expected[-1] for tx in statement["transactions"]]
    lines = parse_statement((BANK / name).read_bytes())
    assert [(line.amount if line.credit else -line.amount) for line in lines] == [
        Decimal(str(tx["amount"])).quantize(Decimal("0.01")) for tx in transactions]
    assert all(line.currency == expected[0] for line in lines)
    credits = [(line, tx) for line, tx in zip(lines, transactions, strict=True) if line.credit]
    assert credits and all(line.payer == tx["partner_name"] for line, tx in credits)
    structured = [line.reference for line, _tx in credits if line.reference]
    assert structured == [tx["ref"] for line, tx in credits if line.reference]


def test_a_statement_without_entries_imports_nothing(backend: object, db: Database) -> None:
    counts = table_counts(db)
    report = run_import(db, (BANK / "oca__test-camt053-no-ntry").read_bytes())
    assert report.outcomes == [] and table_counts(db)[:2] == counts[:2]


def test_corpus_statement_credit_without_reference_is_listed(backend: object,
                                                            db: Database) -> None:
    report = run_import(db, (BANK / "oca__test-camt053").read_bytes())
    assert [(o.result, o.reason) for o in report.outcomes] == [
        ("not_a_credit", None), ("not_a_credit", None), ("not_a_credit", None),
        ("unmatched", "no_reference")]
    with db.read() as session:
        [(row, _none)] = unmatched_lines(session)
    assert (row.amount, row.payer) == (Decimal("1405.31"), "3rd party Media")
