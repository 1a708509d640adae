"""``printkiosk backend statements ...`` run as an operator runs it (a child process) on
a backend file: a plan file with mistakes is refused naming the file and each key (or
the line of a TOML syntax error) and nothing is stored; then plan, generate, issue, pdf
and list work on the same database, audited as the operator."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import select

from backend.config import SECRET_ENV
from backend.db import Database
from backend.models import AuditEntry, Client, ClientPlan
from backend.statements.generate import last_closed_period
from billing import AccountingPeriods


def _run(config: Path, *words: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, SECRET_ENV: "test-secret-key-of-32-characters-or-more"}
    return subprocess.run([sys.executable, "-m", "printkiosk", "backend", "statements",
                           "--config", str(config), *words], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_plan_generate_issue_pdf_from_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "backend.toml"
    url = f"sqlite:///{tmp_path / 'backend.sqlite3'}"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    assert _run(config, "list").returncode == 0  # creates and migrates the database
    db = Database.from_url(url)
    with db.write() as session:
        session.add(Client(code="ACME", name="ACME Corp", billing_day=1))
    today = date.today()
    current = AccountingPeriods(1).start_of(today)
    earlier = last_closed_period(Client(billing_day=1), today).start
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[plan]\nname = ""\ncurrency = "euro"\neffective_from = {current}\n'
                   'type = "simple"\n\n[simple]\nmono = 0.05\ncolor = "0.25"\n',
                   encoding="utf-8")
    refused = _run(config, "plan", "ACME", str(bad))
    assert refused.returncode != 0
    problems = refused.stderr
    assert f"{bad}: plan.name: '' must be a non-empty string" in problems
    assert f"{bad}: plan.currency: 'euro' must be a three-letter currency code" in problems
    assert f"{bad}: simple.mono: 0.05 must be a decimal amount written as a string" \
        in problems
    assert f"{bad}: simple.color: '0.25' is not a known key" in problems
    assert f"{bad}: simple.colour: missing" in problems
    broken = tmp_path / "broken.toml"
    broken.write_text('[plan]\nname = "x"\ncurrency = "EUR"\neffective_from = 2026-13-01\n',
                      encoding="utf-8")
    syntax = _run(config, "plan", "ACME", str(broken))
    assert f"{broken}: is not valid TOML" in syntax.stderr and "line 4" in syntax.stderr
    good = tmp_path / "plan.toml"
    good.write_text(f'[plan]\nname = "ACME simple"\ncurrency = "EUR"\n'
                    f'effective_from = {earlier}\ntype = "simple"\n\n[simple]\n'
                    'mono = "0.05"\ncolour = "0.25"\nmonthly_fee = "12.50"\n',
                    encoding="utf-8")
    past = _run(config, "plan", "ACME", str(good))
    assert "before the current period" in past.stderr and "never re-priced" in past.stderr
    with db.read() as session:
        assert session.scalars(select(ClientPlan)).all() == []  # nothing half-written
    good.write_text(good.read_text().replace(str(earlier), str(current)), encoding="utf-8")
    stored = _run(config, "plan", "ACME", str(good))
    assert stored.returncode == 0, stored.stderr
    assert f"plan 'ACME simple' (simple) for ACME from {current}" in stored.stdout
    generated = _run(config, "generate", str(today))
    assert generated.returncode == 0, generated.stderr
    number = f"ACME-{current:%Y%m%d}"
    assert f"ACME: draft {number} 12.50 EUR" in generated.stdout
    early = _run(config, "issue", number)
    if today < AccountingPeriods(1).next_start(today):
        assert early.returncode != 0 and "can be issued from then on" in early.stderr
    pdf = tmp_path / "statement.pdf"
    done = _run(config, "pdf", number, str(pdf))
    assert done.returncode == 0, done.stderr
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert f"Statement {number}" in text and "€12.50" in text
    listed = _run(config, "list")
    assert number in listed.stdout and "draft" in listed.stdout
    wrong = _run(config, "frobnicate")
    assert wrong.returncode != 0 and "statements plan CLIENT FILE" in wrong.stderr
    with db.read() as session:
        actors = {e.actor for e in session.scalars(select(AuditEntry).where(
            AuditEntry.action.like("statement.%")))}
    assert len(actors) == 1 and actors.pop().startswith("cli:")
    db.dispose()
