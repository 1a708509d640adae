"""``printkiosk report``: the same figures as the engine as a table, CSV (formula cells
guarded), PNG and SVG; refusals naming the option, with nothing written."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from backend_fixtures import SECRET
from generate import END, START, generate
from sqlalchemy import select, update

from backend.app import prepare_database
from backend.config import SECRET_ENV
from backend.db import Database
from backend.models import AuditEntry, SavedReport, User
from backend.reports.csv_export import guard
from backend.reports.engine import total
from backend.reports.query import ReportQuery
from printkiosk.cli import main


@pytest.fixture
def config(history_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SECRET_ENV, SECRET.decode())
    prepare_database(history_db, "EUR")
    path = tmp_path / "backend.toml"
    path.write_text(f'[database]\nurl = "{history_db.engine.url.render_as_string(False)}"\n',
                    encoding="utf-8")
    return path


def test_csv_by_user_and_device_adds_up_and_guards_formulas(
        config: Path, history_db: Database, tmp_path: Path) -> None:
    expected = generate(history_db, 600, users=12)
    with history_db.write() as session:
        session.execute(update(User).where(User.id == expected.user_ids[0])
                        .values(display_name='=HYPERLINK("http://x","y")'))
        session.execute(update(User).where(User.id == expected.user_ids[1])
                        .values(display_name="@SUM(A1)"))
    out = tmp_path / "report.csv"
    assert main(["report", "--config", str(config), "--by", "user,device", "--period", "month",
                 "--from", "2026-09-01", "--to", "2026-12-01", "--format", "csv",
                 "--output", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert sum(int(row["jobs"]) for row in rows) == expected.jobs
    names = {row["name"] for row in rows}
    assert "'=HYPERLINK(\"http://x\",\"y\")" in names and "'@SUM(A1)" in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    with history_db.read() as session:
        assert sum(int(r["pages"]) for r in rows) == total(
            session, ReportQuery(("user",), START, END)).pages


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_every_formula_start_is_prefixed(cell: str) -> None:
    assert guard(cell) == "'" + cell
    assert guard("Alice " + cell) == "Alice " + cell


def test_table_png_and_svg(config: Path, history_db: Database, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    generate(history_db, 300, users=8)
    common = ["report", "--config", str(config), "--by", "device", "--from", "2026-10-01",
              "--to", "2026-11-01"]
    assert main([*common, "--where", "site=gSITE10"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["device", "jobs", "pages_mono"]
    assert table[-1].startswith("TOTAL")
    assert {line.split()[0] for line in table[1:-1]} <= {"gPRN02", "gPRN08", "gPRN14"}
    assert main([*common, "--format", "png", "--output", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main([*common, "--format", "svg", "--measure", "net",
                 "--output", str(tmp_path / "c.svg")]) == 0
    svg = (tmp_path / "c.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "gPRN" in svg


@pytest.mark.parametrize(("options", "message"), [
    (["--by", "user,colour"], "--by: unknown grouping 'colour'"),
    (["--from", "2026-13-01"], "--from: '2026-13-01' is not a date"),
    (["--from", "2026-12-01", "--to", "2026-11-01"], "--to: 2026-11-01 must be after from"),
    (["--period", "year"], "--period: 'year' is not one of day, week, month, range"),
    (["--where", "site"], "--where: 'site' is not GROUPING=VALUE"),
    (["--where", "colour=1"], "--where: cannot filter on 'colour'"),
    (["--format", "pdf"], "--format: 'pdf' is not one of table, csv, png, svg"),
])
def test_bad_options_are_refused_by_name(config: Path, tmp_path: Path, options: list[str],
                                         message: str, capsys: pytest.CaptureFixture[str]) -> None:
    words = {"--from": "2026-11-01", "--to": "2026-12-01"}
    for i in range(0, len(options), 2):
        words[options[i]] = options[i + 1]
    argv = ["report", "--config", str(config), "--output", str(tmp_path / "r.csv")]
    for key, value in words.items():
        argv += [key, value]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


def test_save_a_report_from_the_cli(config: Path, history_db: Database,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["report", "--config", str(config), "--save", "Monthly sites", "--by", "site",
            "--schedule", "monthly", "--recipients", "boss@example.org"]
    assert main(argv) == 0
    assert "saved report 'Monthly sites'" in capsys.readouterr().out
    assert main(argv) == 2  # the same name again
    assert "--name: a saved report is already called 'Monthly sites'; nothing changed" in (
        capsys.readouterr().err)
    with history_db.read() as session:
        saved = session.scalars(select(SavedReport)).all()
        audited = session.scalars(select(AuditEntry.actor).where(
            AuditEntry.action == "report.save")).all()
    assert [(r.name, r.query["by"], r.recipients) for r in saved] == [
        ("Monthly sites", ["site"], "boss@example.org")]
    assert len(audited) == 1 and audited[0].startswith("cli:")
