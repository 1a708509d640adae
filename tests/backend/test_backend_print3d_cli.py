"""``printkiosk 3d``: submit a file for a user (analysed, priced, flagged, audited as
cli:<user>), list, show, cancel a ready job; refusals that change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend_fixtures import SECRET
from print3d_helpers import print3d_config
from sqlalchemy import select

from backend.app import prepare_database
from backend.config import SECRET_ENV
from backend.db import Database
from backend.demo import seed_demo
from backend.demo_gcode import cube_gcode
from backend.models import AuditEntry, Print3DJob
from printkiosk.cli import main


@pytest.fixture
def config(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SECRET_ENV, SECRET.decode())
    prepare_database(db, "EUR")
    seed_demo(db, SECRET, "EUR")
    settings = print3d_config(db, tmp_path)
    assert settings.print3d is not None and settings.pricing.price_lists_dir is not None
    group = settings.print3d.groups[0]
    path = tmp_path / "backend.toml"
    path.write_text(
        f'[database]\nurl = "{db.engine.url.render_as_string(False)}"\n\n'
        f'[pricing]\nprice_lists_dir = "{settings.pricing.price_lists_dir}"\n\n'
        f'[print3d]\nstorage_dir = "{settings.print3d.storage_dir}"\nmax_jobs_per_user = 3\n\n'
        f'[[print3d.groups]]\nname = "{group.name}"\nprinter_model = "MK4"\n'
        'materials = ["PLA", "PETG"]\n', encoding="utf-8")
    return path


def test_submit_list_show_cancel(config: Path, db: Database, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    gcode = tmp_path / "bracket.gcode"
    gcode.write_text(cube_gcode(printer_model="MK3S").text, encoding="utf-8")
    assert main(["3d", "submit", str(gcode), "--user", "alice", "--printer-group",
                 "makerspace", "--config", str(config)]) == 0
    said = capsys.readouterr().out
    assert "3D job 1 for alice on makerspace: bracket.gcode" in said
    assert "printer_model_mismatch (expected MK4, found MK3S)" in said
    assert main(["3d", "list", "--user", "alice", "--config", str(config)]) == 0
    listed = capsys.readouterr().out
    assert "bracket.gcode" in listed and "ready" in listed and "printer_model_mismatch" in listed
    assert main(["3d", "show", "1", "--config", str(config)]) == 0
    shown = capsys.readouterr().out
    assert "flag printer_model_mismatch: expected MK4, found MK3S (blocks release)" in shown
    assert "print3d.upload" in shown
    assert "PrusaSlicer 2.7.4+printkiosk-demo: " in shown and "PLA, for MK3S" in shown
    assert main(["3d", "cancel", "1", "--config", str(config)]) == 0
    assert "cancelled" in capsys.readouterr().out
    assert main(["3d", "cancel", "1", "--config", str(config)]) == 2
    assert "only a ready job can be cancelled" in capsys.readouterr().err
    with db.read() as session:
        assert session.get_one(Print3DJob, 1).status == "deleted"
        actions = [(e.action, e.actor.startswith("cli:")) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.subject == "print3d:1").order_by(AuditEntry.id))]
    assert actions == [("print3d.upload", True), ("print3d.cancel", True)]
    assert list((tmp_path / "store").iterdir()) == []


def test_refusals_change_nothing(config: Path, db: Database, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.gcode"
    bad.write_text("M83\nG1 X1 E1\nG1 X2 E0.5\nG1 Y2 Exyz\n", encoding="utf-8")
    assert main(["3d", "submit", str(bad), "--user", "alice", "--printer-group",
                 "makerspace", "--config", str(config)]) == 2
    assert "line 4" in capsys.readouterr().err
    good = tmp_path / "good.gcode"
    good.write_text(cube_gcode(layers=2).text, encoding="utf-8")
    assert main(["3d", "submit", str(good), "--user", "carol", "--printer-group",
                 "makerspace", "--config", str(config)]) == 2
    assert "has no [print3d] prices" in capsys.readouterr().err
    assert main(["3d", "submit", str(good), "--user", "alice", "--printer-group",
                 "elsewhere", "--config", str(config)]) == 2
    assert "no 3D printer group 'elsewhere'" in capsys.readouterr().err
    assert main(["3d", "submit", str(good), "--config", str(config)]) == 2
    assert "--user U and --printer-group G" in capsys.readouterr().err
    with db.read() as session:
        assert session.scalars(select(Print3DJob)).all() == []
    assert [p.name for p in (tmp_path / "store").iterdir()] == []
