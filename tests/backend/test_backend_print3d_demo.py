"""The demo backend's 3D part: its TOML has ``[print3d]`` with the group ``demo-3d``, and
the demo data uploads generated G-code jobs (alice: a fine one and one for an MK3S,
flagged; bob: one), priced with the demo users' price list, once."""

from __future__ import annotations

import shutil
from pathlib import Path

from backend_fixtures import SECRET
from sqlalchemy import select

from backend.app import prepare_database
from backend.config import load_backend_config
from backend.db import Database
from backend.demo import DEMO_PRINT3D_GROUP, seed_demo, seed_demo_print3d
from backend.models import Print3DJob, User
from printkiosk import REPO_CONFIG
from printkiosk.commands.demo import DEMO_LOGIN_RATE, DEMO_PRICE_LISTS, demo_backend_toml


def test_demo_jobs_are_generated_priced_and_flagged_once(tmp_path: Path) -> None:
    lists = tmp_path / "pricelists"
    lists.mkdir()
    for name in DEMO_PRICE_LISTS:
        shutil.copyfile(REPO_CONFIG / "pricelists" / name, lists / name)
    database = (tmp_path / "backend.sqlite3").as_posix()
    (tmp_path / "backend.toml").write_text(
        demo_backend_toml(8470, database, lists, DEMO_LOGIN_RATE, None), encoding="utf-8")
    config = load_backend_config(tmp_path / "backend.toml")
    assert config.print3d is not None
    group = config.print3d.group(DEMO_PRINT3D_GROUP)
    assert group is not None and (group.printer_model, group.materials) == ("MK4", ["PLA"])
    db = Database.from_url(config.database_url)
    try:
        prepare_database(db, "EUR")
        seed_demo(db, SECRET, "EUR")
        created = seed_demo_print3d(db, config)
        assert len(created) == 3
        assert seed_demo_print3d(db, config) == []  # a restart uploads nothing twice
        with db.read() as session:
            rows = session.execute(select(User.username, Print3DJob).join(
                User, User.id == Print3DJob.user_id).order_by(Print3DJob.id)).tuples().all()
    finally:
        db.dispose()
    jobs = {(name, job.name): job for name, job in rows}
    fine = jobs["alice", "demo-cube.gcode"]
    flagged = jobs["alice", "bracket-mk3s.gcode"]
    bobs = jobs["bob", "tower.gcode"]
    for job in (fine, flagged, bobs):
        assert job.group_name == DEMO_PRINT3D_GROUP and job.material == "PLA"
        assert job.price_list == "Campus default 2026" and job.price > 0
        assert job.slicer["slicer"] == "PrusaSlicer" and job.time_source == "slicer"
        assert 0 < job.size_bytes < 300_000
        assert (config.print3d.storage_path / job.stored_name).is_file()
    assert fine.flags == [] and bobs.flags == []
    assert [flag["code"] for flag in flagged.flags] == ["printer_model_mismatch"]
