"""The 3D follower's reports to the backend over the fakes: progress events, not one per
poll, journalled in the outbox and sent with the settlement; a filament
run-out raised as an alert once, cleared when the print resumes or ends. (The real
OctoPrint and backend: tests/terminal/test_print3d_octoprint.py.)"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from test_print3d import Kiosk

from terminal.print3d_reports import EVERY_S, STEP_PERCENT
from terminal.print3d_values import Stage3D


def sent(kiosk: Kiosk, kind: str) -> list[dict[str, Any]]:
    """What reached the (fake) backend's /events, in the order sent."""
    return [dict(event["payload"]) for event in kiosk.ledger.events.values()
            if event["kind"] == kind]


def test_progress_is_reported_by_steps_and_sent_before_the_settlement(
        tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path, step=16)  # 1 % of the file per poll: 100 polls
    kiosk.release()
    final = kiosk.follow_until_final()
    assert final.stage is Stage3D.FINISHED and final.settlement_sent
    reports = sent(kiosk, "print3d_progress")
    percents = [report["percent"] for report in reports]
    # every 5 % (the fake's polls are 1 s apart: EVERY_S never comes first here)
    assert 18 <= len(reports) <= 21, percents
    assert all(b - a >= STEP_PERCENT for a, b in pairwise(percents))
    first = reports[0]
    assert first["job_id"] == 1 and first["file_position"] == 16
    assert first["time_left_s"] is not None and first["print_time_s"] == 6
    assert reports[-1]["percent"] >= 95 and reports[-1]["time_left_s"] <= 60
    assert kiosk.book.outbox.pending() == []  # all sent, the settlement too


def test_a_slow_print_is_reported_at_least_every_few_minutes(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path, step=1)  # 1/1600 of the file per poll
    kiosk.release()
    for _ in range(30):
        kiosk.follower.poll_once()
        kiosk.clock.advance(EVERY_S / 10)
    kiosk.book.drain()
    assert len(sent(kiosk, "print3d_progress")) == 3  # at 0, EVERY_S and 2 x EVERY_S


def test_a_runout_is_raised_once_and_cleared_when_printing_resumes(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path, step=16)
    kiosk.release()
    for _ in range(5):
        kiosk.follower.poll_once()
    kiosk.printer.state = "paused"
    kiosk.printer.events = ["filament_runout"]
    kiosk.follower.poll_once()
    kiosk.printer.events = ["filament_runout"]  # the printer says it again: one alert
    kiosk.follower.poll_once()
    kiosk.printer.state = "printing"
    kiosk.follower.poll_once()
    kiosk.printer.events = ["filament_runout"]  # a second run-out, never resumed
    kiosk.follower.poll_once()
    final = kiosk.follow_until_final()
    assert final.stage is Stage3D.FINISHED
    alerts = sent(kiosk, "alert")
    runout = {"code": "filament_runout", "severity": "critical",
              "description": "filament run-out on the 3D printer (job 1)"}
    assert alerts == [
        {"active": [runout], "raised": [runout], "cleared": []},
        {"active": [], "raised": [], "cleared": [runout]},   # resumed
        {"active": [runout], "raised": [runout], "cleared": []},
        {"active": [], "raised": [], "cleared": [runout]},   # the print ended
    ]


def test_a_kiosk_restarted_during_a_runout_clears_it_when_the_print_ends(
        tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path, step=16)
    kiosk.release()
    for _ in range(3):
        kiosk.follower.poll_once()
    kiosk.printer.state = "paused"
    kiosk.printer.events = ["filament_runout"]
    kiosk.follower.poll_once()
    kiosk.restart()  # a new process: it does not know it raised the run-out
    kiosk.printer.state = "printing"
    assert kiosk.follow_until_final().stage is Stage3D.FINISHED
    assert [(len(a["raised"]), len(a["cleared"])) for a in sent(kiosk, "alert")] == [
        (1, 0), (0, 1)]
