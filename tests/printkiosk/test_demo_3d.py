"""``printkiosk demo --3d``: the demo backend with its uploaded 3D jobs and its mailbox,
OctoPrint with its virtual printer slowed down to the demo's pace, and the 3D kiosk the
demo builds (``demo_kiosk_3d_config`` + ``build_terminal``, as ``run_3d`` does)."""

from __future__ import annotations

import email
import mailbox
import sys
import time
from email import policy
from pathlib import Path

import pytest

from backend.demo import DEMO_TERMINAL_TOKEN
from printkiosk.commands.demo import (
    DEMO_3D_THROTTLE_S,
    add_arguments,
    demo_cards,
    demo_kiosk_3d_config,
    free_port,
    start_demo_backend,
    stop_demo_backend,
)
from printkiosk.commands.demo_mail import start_demo_mailbox
from printkiosk.commands.octoprint_peer import start_octoprint
from terminal.print3d_values import Stage3D
from terminal.wiring import build_terminal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "terminal"))
from print3d_kiosk import Watch, release


def test_demo_takes_3d() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--3d"]).print3d and not parser.parse_args([]).print3d


@pytest.mark.peer
def test_demo_3d_lists_the_demo_jobs_and_prints_one_in_about_a_minute(tmp_path: Path) -> None:
    port = free_port()
    box = start_demo_mailbox(tmp_path / "mail")
    backend = start_demo_backend(port, tmp_path, notifications=box.notifications_toml())
    octoprint = start_octoprint(tmp_path / "octoprint", throttle=DEMO_3D_THROTTLE_S)
    terminal = None
    try:
        config = demo_kiosk_3d_config(port, tmp_path, octoprint)
        assert (tmp_path / "octoprint-api-key").stat().st_mode & 0o077 == 0
        terminal = build_terminal(config, DEMO_TERMINAL_TOKEN, demo_cards=demo_cards())
        watch = Watch(terminal)
        terminal.start()
        terminal.backend.identify_card("1001")
        assert terminal.print3d is not None
        jobs = {job.name: job for job in terminal.print3d.list_jobs("alice")}
        assert jobs["demo-cube.gcode"].releasable
        flagged = jobs["bracket-mk3s.gcode"]
        assert not flagged.releasable
        assert [f.code for f in flagged.flags if f.blocks_release] == ["printer_model_mismatch"]
        began = time.monotonic()
        started = release(terminal, "alice", "1001", jobs["demo-cube.gcode"].job_id)
        assert started.stage is Stage3D.PRINTING, started
        final = watch.final(240)
        took = time.monotonic() - began
        print(f"demo cube printed in {took:.0f} s, charged {final.charged} for "
              f"{final.grams_charged} g (estimate {jobs['demo-cube.gcode'].grams} g)")
        assert final.stage is Stage3D.FINISHED and final.settlement_sent, final
        assert final.grams_charged == jobs["demo-cube.gcode"].grams
        assert 30 <= took <= 120, took
        # Alice (French) is mailed that it is nearly done, then what it cost: the demo's
        # mailbox gets both from the backend's own outbox worker (a 2 s tick).
        wanted = {"Votre impression 3D demo-cube.gcode est presque terminée",
                  "Votre impression 3D demo-cube.gcode est terminée"}
        deadline = time.monotonic() + 30
        while not wanted <= _subjects(box.folder, "alice@example.org") and (
                time.monotonic() < deadline):
            time.sleep(0.5)
        assert wanted <= _subjects(box.folder, "alice@example.org")
    finally:
        if terminal is not None:
            terminal.close()
        octoprint.stop()
        stop_demo_backend(backend)
        box.close()


def _subjects(folder: Path, to: str) -> set[str]:
    """The decoded subjects of the mails to ``to`` (the default policy decodes them)."""
    messages = [email.message_from_bytes(m.as_bytes(), policy=policy.default)
                for m in mailbox.Maildir(str(folder))]
    return {str(m["Subject"]) for m in messages if str(m["To"]) == to}
