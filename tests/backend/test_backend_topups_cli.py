"""``printkiosk payments`` (issue 14): list, show, refund with its reason (audited, the
ledger reversed through the gateway), refusals that change nothing, reconcile."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from backend_fixtures import SECRET
from sqlalchemy import select
from topup_helpers import make_top_up, personal, settle, status

from backend.app import prepare_database
from backend.config import SECRET_ENV
from backend.db import Database
from backend.demo import seed_demo
from backend.models import AuditEntry
from printkiosk.cli import main


@pytest.fixture
def config(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SECRET_ENV, SECRET.decode())
    prepare_database(db, "EUR")
    seed_demo(db, SECRET, "EUR")
    path = tmp_path / "backend.toml"
    path.write_text(f'[database]\nurl = "{db.engine.url.render_as_string(False)}"\n\n'
                    '[payments]\ngateway = "demo"\npublic_base_url = "http://127.0.0.1:1"\n'
                    "\n[payments.demo]\nenabled = true\n", encoding="utf-8")
    return path


def test_list_show_and_refund_with_a_reason(config: Path, db: Database,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    before = personal(db, "bob")
    top_up = make_top_up(db, amount="5.00", gateway="demo")
    settle(db, top_up)
    assert main(["payments", "list", "--config", str(config)]) == 0
    listed = capsys.readouterr().out
    assert top_up.public_id in listed and "paid" in listed and "bob" in listed
    assert main(["payments", "show", top_up.public_id, "--config", str(config)]) == 0
    shown = capsys.readouterr().out
    assert "credited" in shown and "topup.paid" in shown
    # no reason: refused, nothing changed
    assert main(["payments", "refund", top_up.public_id, "--config", str(config)]) == 2
    assert "--reason" in capsys.readouterr().err
    assert personal(db, "bob") == before + Decimal("5.00")
    assert main(["payments", "refund", top_up.public_id, "--amount", "2.00", "--reason",
                 "asked at the desk", "--config", str(config)]) == 0
    assert "2.00 of 5.00" in capsys.readouterr().out
    assert personal(db, "bob") == before + Decimal("3.00")
    assert main(["payments", "refund", top_up.public_id, "--amount", "3.01", "--reason",
                 "again", "--config", str(config)]) == 2
    assert "3.00 of 5.00 refundable" in capsys.readouterr().err
    with db.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "topup.refund"))
    assert entry is not None and entry.actor.startswith("cli:")
    assert entry.details is not None and entry.details["reason"] == "asked at the desk"
    assert status(db, top_up).refunded_amount == Decimal("2.00")


def test_an_unknown_top_up_is_a_clear_refusal(config: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payments", "show", "T-NOPE", "--config", str(config)]) == 2
    assert "no top-up 'T-NOPE'" in capsys.readouterr().err
    assert main(["payments", "reconcile", "--config", str(config)]) == 0
    assert "no pending top-up was due" in capsys.readouterr().out
