"""``printkiosk demo --reset``: the demo starts from its seeded data, not from what an
earlier run left (charges in the backend database, an outbox still to drain, held jobs).

Run against the real demo backend process on SQLite, in a data folder under a private
XDG_DATA_HOME so the developer's own demo data is never touched.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from printkiosk.commands.demo import (
    demo_data_dir,
    free_port,
    prepare_demo_data,
    start_demo_backend,
    stop_demo_backend,
)
from terminal.outbox import EntryKind, Outbox

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    yield tmp_path / "xdg"


def run_demo_backend_once(data_dir: Path) -> None:
    """Start the demo backend (it migrates and seeds the database), then stop it."""
    stop_demo_backend(start_demo_backend(free_port(), data_dir))


def transactions(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "backend.sqlite3") as db:
        count: int = db.execute("SELECT count(*) FROM ledger_transactions").fetchone()[0]
        return count


def adjust_alice(data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "printkiosk", "backend", "adjust", "--config",
         str(data_dir / "backend.toml"), "--user", "alice", "--account", "personal",
         "--amount", "2.00", "--reason", "left by an earlier demo run"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def kiosk_outbox_entries(data_dir: Path) -> int:
    outbox = Outbox(data_dir / "kiosk" / "outbox.sqlite")
    try:
        return len(outbox.pending())
    finally:
        outbox.close()


def leave_an_earlier_run(data_dir: Path) -> None:
    run_demo_backend_once(data_dir)
    adjust_alice(data_dir)
    outbox = Outbox(data_dir / "kiosk" / "outbox.sqlite")
    try:
        outbox.record(EntryKind.EVENT, {"event": "left by an earlier demo run"})
    finally:
        outbox.close()
    stale_job = data_dir / "cups" / "spool" / "d00042-001"
    stale_job.parent.mkdir(parents=True)
    stale_job.write_bytes(b"%PDF-1.4 a job of an earlier run")


def test_without_reset_the_demo_goes_on_where_it_stopped(data_home: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    data_dir = prepare_demo_data(reset=False)
    assert data_dir == data_home / "printkiosk" / "demo"
    run_demo_backend_once(data_dir)
    seeded = transactions(data_dir)
    leave_an_earlier_run(data_dir)
    again = prepare_demo_data(reset=False)
    run_demo_backend_once(again)
    assert transactions(again) == seeded + 1
    assert kiosk_outbox_entries(again) == 1
    assert f"demo: demo data in {data_dir} (printkiosk demo --reset starts afresh)" in \
        capsys.readouterr().err


def test_reset_starts_from_the_seeded_data(data_home: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = demo_data_dir()
    run_demo_backend_once(data_dir)
    seeded = transactions(data_dir)
    leave_an_earlier_run(data_dir)
    assert transactions(data_dir) == seeded + 1

    fresh = prepare_demo_data(reset=True)
    assert fresh == data_dir
    assert list(fresh.iterdir()) == []  # database, kiosk state and CUPS spool are gone
    run_demo_backend_once(fresh)
    assert transactions(fresh) == seeded
    assert kiosk_outbox_entries(fresh) == 0
    assert f"demo: fresh demo data in {data_dir}" in capsys.readouterr().err


def test_demo_help_offers_reset() -> None:
    done = subprocess.run([sys.executable, "-m", "printkiosk", "demo", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0
    assert "--reset" in done.stdout


def test_readme_says_where_the_demo_keeps_its_data() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "~/.local/share/printkiosk/demo" in readme
    assert "printkiosk demo --reset" in readme
