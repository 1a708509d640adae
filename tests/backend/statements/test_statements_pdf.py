"""The statement PDF, read back as its reader would: pdftotext finds every tier line and
the totals (in English and in French), pdftoppm renders it into the test artifacts for
a look; a member's statement says where it went."""

from __future__ import annotations

import os
import subprocess
from datetime import date
from pathlib import Path

from client_plan_helpers import (
    SEED_TIERS,
    add_plan,
    at,
    captured_job,
    make_client,
    migrated,
    simple_plan,
)
from sqlalchemy import select

from backend.db import Database
from backend.models import Client
from backend.statements.document import load_view
from backend.statements.generate import Period, generate_draft
from backend.statements.pdf import statement_pdf
from backend.statements.status import change, find_statement

OCT = Period(date(2026, 10, 1), date(2026, 11, 1))
ARTIFACTS = Path(os.environ.get("PRINTKIOSK_TEST_ARTIFACTS",
                                Path(__file__).resolve().parents[3] / "test-artifacts"))


def draft(db: Database, code: str) -> str:
    with db.write() as session:
        client = session.scalar(select(Client).where(Client.code == code))
        assert client is not None
        return generate_draft(session, client, OCT, actor="test", now=at(date(2026, 11, 2))).number


def pdf_of(db: Database, number: str, name: str) -> tuple[Path, str]:
    with db.read() as session:
        data = statement_pdf(load_view(session, find_statement(session, number)))
    out = ARTIFACTS / "statements"
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.pdf"
    target.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", str(target),
                    str(out / name)], check=True)
    assert (out / f"{name}.png").stat().st_size > 10_000
    text = subprocess.run(["pdftotext", "-layout", str(target), "-"], check=True,
                          capture_output=True, text=True).stdout
    return target, text


def test_the_seed_example_statement_pdf_shows_every_tier_and_the_total(
        db: Database) -> None:
    migrated(db)
    make_client(db, "ACME", billing_code="ACME")
    add_plan(db, "ACME", SEED_TIERS.format(start=OCT.start), OCT.start)
    captured_job(db, "ACME", at(date(2026, 10, 3)), mono=13_207, colour=11_216)
    number = draft(db, "ACME")
    _, text = pdf_of(db, number, f"seed001-{db.engine.dialect.name}")
    rows = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    for row in ("black and white pages 1 to 100 100 10.00 €1,000.00",
                "black and white pages 10,001 to 13,207 3,207 4.00 €12,828.00",
                "colour pages 101 to 1,000 900 10.50 €9,450.00",
                "colour pages 10,001 to 11,216 1,216 5.20 €6,323.20",
                "Total €161,751.20"):
        assert any(row.lower() in r.lower() for r in rows), (row, rows)
    assert f"Statement {number}" in text and "ACME Ltd (ACME)" in text


def test_a_french_members_pdf_says_it_was_transferred(db: Database) -> None:
    migrated(db)
    make_client(db, "HOLD")
    make_client(db, "SUB", parent="HOLD", billing_code="SUB", language="fr")
    add_plan(db, "HOLD", simple_plan(OCT.start), OCT.start)
    add_plan(db, "SUB", simple_plan(OCT.start, mono="0.0125", fee="20", included_mono=50),
             OCT.start)
    captured_job(db, "SUB", at(date(2026, 10, 5)), mono=1050, colour=2)
    member = draft(db, "SUB")
    with db.write() as session:
        change(session, find_statement(session, member), "issued", actor="test",
               now=at(date(2026, 11, 2)))
    parent = draft(db, "HOLD")
    _, text = pdf_of(db, member, f"member-fr-{db.engine.dialect.name}")
    rows = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    for row in ("Abonnement mensuel 1 20,00 20,00 €",
                "Noir et blanc : pages incluses dans l'abonnement 50 0,00 0,00 €",
                "Noir et blanc : pages 1 000 0,0125 12,50 €",
                "Couleur : pages 2 0,25 0,50 €",
                "Total 33,00 €", f"Transféré à {parent} (HOLD Ltd)"):
        assert any(row in r.replace("\u202f", " ").replace("\xa0", " ") for r in rows), (
            row, rows)
    _, parent_text = pdf_of(db, parent, f"parent-{db.engine.dialect.name}")
    assert f"Statement {member} of SUB Ltd" in parent_text
    assert "Total €33.00" in " ".join(parent_text.split())
