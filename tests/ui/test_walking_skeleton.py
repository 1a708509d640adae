"""The kiosk in a real window (Xvfb) against the real backend process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def artifacts() -> Path:
    default = HERE.parents[1] / "test-artifacts"
    return Path(os.environ.get("PRINTKIOSK_TEST_ARTIFACTS", default)) / "screens"


def drive(script: str, backend_url: str) -> None:
    """Run one UI scenario in its own process (one Kivy window per process)."""
    if not os.environ.get("DISPLAY"):
        pytest.fail("UI tests need an X display: run them through scripts/test.sh (xvfb-run)")
    result = subprocess.run(
        [sys.executable, str(HERE / script), backend_url],
        capture_output=True, text=True, timeout=120, cwd=HERE,
    )
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.mark.ui
def test_card_shows_name_and_balance_then_logout(demo_backend_url: str) -> None:
    drive("drive_skeleton.py", demo_backend_url)
    for name in ("skeleton-idle", "skeleton-home", "skeleton-home-fr"):
        shot = artifacts() / f"{name}.png"
        assert shot.stat().st_size > 10_000, shot


@pytest.mark.ui
def test_pin_login_on_keypad_then_idle_timeout(demo_backend_url: str) -> None:
    drive("drive_pin_and_timeout.py", demo_backend_url)
    for name in ("pin-wrong", "idle-countdown"):
        assert (artifacts() / f"{name}.png").stat().st_size > 10_000


@pytest.mark.ui
def test_offline_banner_cached_user_served_unknown_card_refused(tmp_path: Path) -> None:
    drive("drive_offline.py", str(tmp_path))
    for name in ("offline-idle", "offline-home"):
        assert (artifacts() / f"{name}.png").stat().st_size > 10_000


@pytest.mark.ui
def test_language_is_the_users_per_session_switchable_and_back_to_default(
    demo_backend_url: str,
) -> None:
    drive("drive_language.py", demo_backend_url)
    for name in ("language-idle-en-800x480", "language-idle-fr-800x480",
                 "language-home-profile-en-800x480", "language-home-switched-fr-800x480",
                 "language-home-profile-fr-800x480"):
        assert (artifacts() / f"{name}.png").stat().st_size > 10_000, name
