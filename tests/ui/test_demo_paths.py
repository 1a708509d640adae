"""The demo as a new user gets it: ``printkiosk demo``'s backend, print server and kiosk
configuration, driven through the real window (Xvfb) — Alice prints her free thesis and
her paid slides in one *Print all* (issue 11: no earlier test walked the shipped data)."""

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


@pytest.mark.ui
@pytest.mark.peer
def test_alice_prints_her_free_thesis_and_paid_slides_in_one_print_all(tmp_path: Path) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.fail("UI tests need an X display: run them through scripts/test.sh (xvfb-run)")
    result = subprocess.run(
        [sys.executable, str(HERE / "drive_demo_paths.py"), str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=240, cwd=HERE,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    for name in ("demo-idle", "demo-alice-home-fr", "demo-alice-printed-fr"):
        assert (artifacts() / f"{name}.png").stat().st_size > 10_000, name
