"""``printkiosk payments import-statement`` and ``payments unmatched`` as the operator
runs them: through ``printkiosk.cli.main`` on a backend configuration of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from backend import ledger, topups
from backend.app import prepare_database
from backend.config import load_backend_config
from backend.db import Database
from backend.demo import seed_demo
from backend.ledger import check_invariants
from backend.models import TopUp, User
from backend.payments.bank_transfer import BankTransferGateway
from printkiosk.cli import main


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "backend.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/p.sqlite3"\n\n'
                    f'[security]\nsecret_key_file = "{tmp_path}/secret.key"\n\n'
                    '[payments]\ngateway = "bank_transfer"\n\n'
                    '[payments.bank_transfer]\niban = "DE89370400440532013000"\n'
                    'beneficiary = "Bibliotheque universitaire"\n', encoding="utf-8")
    yield path
    db = Database.from_url(load_backend_config(path).database_url)
    with db.read() as session:
        report = check_invariants(session)
    db.dispose()
    assert report.ok, report


def _top_up(config: Path, amount: str) -> tuple[TopUp, Database]:
    loaded = load_backend_config(config)
    db = Database.from_url(loaded.database_url)
    prepare_database(db, "EUR")
    secret = loaded.secret_key()
    seed_demo(db, secret, "EUR")
    gateway = BankTransferGateway.from_config(loaded)
    with db.write() as session:
        bob = session.scalar(select(User).where(User.username == "bob"))
        assert bob is not None
        top_up = topups.create_top_up(session, secret, user=ledger.lock_user(session, bob.id),
                                      terminal_id=None, amount=Decimal(amount),
                                      currency="EUR", gateway_name=gateway.name,
                                      expire_after=timedelta(minutes=10))
        topups.attach_payment(session, top_up, gateway.create_payment(
            top_up.public_id, top_up.amount, "EUR", "top-up", "http://h/"),
            topups.url_token(secret, top_up.public_id))
        session.expunge(top_up)
    return top_up, db


def _status(db: Database, top_up: TopUp) -> str:
    with db.read() as session:
        return topups.find(session, top_up.public_id).status


def test_import_statement_dry_run_then_for_real_then_unmatched(
        capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path) -> None:
    top_up, db = _top_up(config, "5.00")
    assert top_up.gateway_payment_id
    statement = tmp_path / "2026-12-01.csv"
    statement.write_text("date,amount,currency,reference,payer_name,bank_transaction_id\n"
                         f"2026-12-01,5.00,EUR,{top_up.gateway_payment_id},Jean Dupont,B-1\n"
                         "2026-12-01,8.00,EUR,donation,Marie Curie,B-2\n", encoding="utf-8")
    args = ["payments", "import-statement", str(statement), "--config", str(config)]
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "1 top-ups would be credited, 1 unmatched would be listed" in out
    assert "nothing written" in out and _status(db, top_up) == "pending"

    assert main(args) == 0
    out = capsys.readouterr().out
    assert top_up.public_id in out and "1 top-ups credited, 1 unmatched listed" in out
    assert _status(db, top_up) == "paid"

    assert main(["payments", "unmatched", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "8.00 EUR" in out and "no top-up reference" in out and "donation" in out
    assert "1 lines" in out
    db.dispose()


def test_a_bad_statement_is_one_line_on_stderr_and_status_2(
        capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path) -> None:
    top_up, db = _top_up(config, "5.00")
    bad = tmp_path / "bad.csv"
    bad.write_text("date,amount,currency,reference,payer_name,bank_transaction_id\n"
                   "2026-12-01,five,EUR,x,y,T1\n", encoding="utf-8")
    assert main(["payments", "import-statement", str(bad), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "bad.csv: line 2: amount 'five'" in err and "nothing changed" in err
    assert main(["payments", "import-statement", "--config", str(config)]) == 2
    assert "name the statement FILE" in capsys.readouterr().err
    assert _status(db, top_up) == "pending"
    db.dispose()
