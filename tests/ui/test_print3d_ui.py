"""The 3D kiosk in a real window (Xvfb): list, build plate, release, progress, finished,
in English and in French, with screenshots."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def artifacts() -> Path:
    default = REPO / "test-artifacts"
    return Path(os.environ.get("PRINTKIOSK_TEST_ARTIFACTS", default)) / "screens"


@pytest.mark.ui
def test_list_plate_release_progress_finished_in_english_and_french_then_leave_busy_cancel(
        tmp_path: Path) -> None:
    """Then: a user leaves mid-print, the next user sees the printer busy without a name,
    the first comes back to their progress and cancels it after the confirmation."""
    if not os.environ.get("DISPLAY"):
        pytest.fail("UI tests need an X display: run them through scripts/test.sh (xvfb-run)")
    result = subprocess.run([sys.executable, str(HERE / "drive_print3d.py"),
                             str(tmp_path / "state")],
                            capture_output=True, text=True, timeout=180, cwd=HERE)
    assert result.returncode == 0, result.stderr[-4000:]
    for name in ("print3d-idle", "print3d-list", "print3d-plate", "print3d-progress",
                 "print3d-finished", "print3d-list-fr", "print3d-plate-fr",
                 "print3d-progress-fr", "print3d-finished-fr", "print3d-idle-printing",
                 "print3d-busy-other-fr", "print3d-cancel-confirm", "print3d-cancelled"):
        assert (artifacts() / f"{name}.png").stat().st_size > 5_000, name


@pytest.mark.ui
@pytest.mark.peer
def test_the_3d_demo_for_real_list_in_french_print_to_the_end_in_english(tmp_path: Path) -> None:
    """The demo backend and its 3D jobs, a real OctoPrint, the demo's own kiosk file."""
    if not os.environ.get("DISPLAY"):
        pytest.fail("UI tests need an X display: run them through scripts/test.sh (xvfb-run)")
    result = subprocess.run([sys.executable, str(HERE / "drive_print3d_demo.py"),
                             str(tmp_path / "demo")],
                            capture_output=True, text=True, timeout=300, cwd=HERE)
    assert result.returncode == 0, result.stderr[-4000:]
    for name in ("print3d-demo-list-fr", "print3d-demo-progress", "print3d-demo-finished"):
        assert (artifacts() / f"{name}.png").stat().st_size > 5_000, name
