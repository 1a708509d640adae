"""The 3D kiosk's reports reach the backend and make the user's mails, end to end: a real
backend process with notifications on, the real OctoPrint virtual printer, the kiosk
from ``config/kiosk-3d.toml`` through ``build_terminal``.

One slow case: the watched print's progress events reach ``/events`` and give exactly
one nearly-done row (at the site's percent, not before) and one finished row; a run-out
told by the virtual printer mid-print (as Marlin sends it) reaches ``/events`` as an
``alert`` raised, then cleared when the print ends.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from printkiosk import REPO_CONFIG
from printkiosk.commands.demo import (
    DEMO_LOGIN_RATE,
    DEMO_PRICE_LISTS,
    demo_backend_toml,
    wait_for_port,
)
from printkiosk.commands.octoprint_peer import OctoPrintInstance
from terminal.print3d_values import Stage3D

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from backend_process import BackendProcess  # noqa: E402
from print3d_kiosk import release  # noqa: E402
from test_print3d_octoprint import (  # noqa: E402
    ALICE_CARD,
    start,
    terminal_for,
    uploaded,
)

NEARLY_DONE_PERCENT = 50
NOTIFICATIONS = f"""
[notifications]
enabled = true
from_address = "print@example.org"

[notifications.smtp]
host = "127.0.0.1"
port = 9
security = "none"

[notifications.print3d]
nearly_done_minutes = 0
nearly_done_percent = {NEARLY_DONE_PERCENT}
collect_at = {{ "demo-3d" = "the makerspace desk" }}
"""


class Notifying(BackendProcess):
    """The demo backend with 3D mails on: nearly done at 50 % (by percent only, so the
    test can tell the row came from the right report). No mail server listens: the
    rows stay in the outbox, which is what this test reads."""

    def start(self) -> None:
        config = self.data_dir / "backend.toml"
        database = (self.data_dir / "backend.sqlite3").as_posix()
        lists = self.data_dir / "pricelists"
        lists.mkdir(exist_ok=True)
        for name in DEMO_PRICE_LISTS:
            shutil.copyfile(REPO_CONFIG / "pricelists" / name, lists / name)
        text = demo_backend_toml(self.port, database, lists, DEMO_LOGIN_RATE, None)
        config.write_text(text + NOTIFICATIONS, encoding="utf-8")
        process = subprocess.Popen([sys.executable, "-m", "printkiosk", "backend", "--config",
                                    str(config), "--demo-data"])
        wait_for_port(self.port, process)
        self._process = process

    def rows(self, query: str, *args: object) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.data_dir / "backend.sqlite3") as db:
            return db.execute(query, args).fetchall()


@pytest.fixture
def backend(tmp_path: Path) -> Any:
    process = Notifying(tmp_path / "backend")
    process.data_dir.mkdir()
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.peer
def test_a_watched_print_reports_progress_and_a_runout_and_gets_one_nearly_done_and_one_finished(
        backend: Notifying, octoprint: OctoPrintInstance, tmp_path: Path) -> None:
    job_id, _path = uploaded(backend, tmp_path, 12, "notified")
    terminal = terminal_for(backend, tmp_path / "kiosk", "octoprint", octoprint.url,
                            octoprint.api_key)
    try:
        watch = start(terminal)
        assert release(terminal, "alice", ALICE_CARD, job_id).stage is Stage3D.PRINTING
        watch.wait(lambda u: u.stage is Stage3D.PRINTING and (u.percent or 0) >= 20, 180)
        # a run-out sensor's report, as Marlin sends it, through the virtual printer
        requests.post(octoprint.url + "/api/printer/command",
                      headers={"X-Api-Key": octoprint.api_key}, timeout=10,
                      json={"commands": ["!!DEBUG:action_custom out_of_filament T0"]})
        watch.wait(lambda u: "filament_runout" in u.events, 60)
        final = watch.final(180)
        assert final.stage is Stage3D.FINISHED and final.settlement_sent, final
    finally:
        terminal.close()
    progress = [json.loads(payload) for (payload,) in backend.rows(
        "SELECT payload FROM terminal_events WHERE kind = 'print3d_progress' ORDER BY id")]
    assert len(progress) >= 3 and {p["job_id"] for p in progress} == {job_id}
    percents = [p["percent"] for p in progress]
    assert percents == sorted(percents) and percents[0] < NEARLY_DONE_PERCENT <= percents[-1]
    # (the 3D mails: the user rules may add a low-balance one for the same charge)
    mails = backend.rows("SELECT kind, to_address, dedupe_key, context FROM notifications "
                         "WHERE kind LIKE 'print3d_%' ORDER BY id")
    assert [(kind, to, key) for kind, to, key, _ in mails] == [
        ("print3d_nearly_done", "alice@example.org", f"print3d_nearly_done:{job_id}"),
        ("print3d_finished", "alice@example.org", f"print3d_finished:{job_id}")]
    nearly = json.loads(mails[0][3])
    first_at_threshold = next(p for p in percents if p >= NEARLY_DONE_PERCENT)
    assert nearly["percent"] == int(first_at_threshold)
    assert nearly["collect_at"] == "the makerspace desk" and nearly["printer"]
    finished = json.loads(mails[1][3])
    assert finished["charged"] == f"{final.charged:.2f}"
    assert finished["grams"] == str(final.grams_charged)
    alerts = [json.loads(payload) for (payload,) in backend.rows(
        "SELECT payload FROM terminal_events WHERE kind = 'alert' ORDER BY id")]
    assert [[a["code"] for a in alert["raised"]] for alert in alerts] == [
        ["filament_runout"], []]
    assert [[a["code"] for a in alert["cleared"]] for alert in alerts] == [
        [], ["filament_runout"]]
    print(f"{len(progress)} progress events {percents}; nearly done at "
          f"{nearly['percent']} %; charged {finished['charged']} for {finished['grams']} g")
