"""Technician mode in a real window (Xvfb): the screens over the fake desk, and the
real flows against the demo's backend, CUPS and snmpsim (issue 16)."""

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


def drive(script: str, *args: str, timeout_s: float = 180) -> None:
    """Run one UI scenario in its own process (one Kivy window per process)."""
    if not os.environ.get("DISPLAY"):
        pytest.fail("UI tests need an X display: run them through scripts/test.sh (xvfb-run)")
    result = subprocess.run([sys.executable, str(HERE / script), *args],
                            capture_output=True, text=True, timeout=timeout_s, cwd=HERE)
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.mark.ui
def test_technician_screens_change_refuse_restore_probe_and_derive_by_touch(
    demo_backend_url: str,
) -> None:
    drive("drive_technician_screens.py", demo_backend_url)
    for name in ("technician-login", "technician-home", "technician-saved",
                 "technician-refused", "technician-snmp", "technician-derived",
                 "technician-snmp-fr", "technician-home-fr", "technician-settings-fr"):
        assert (artifacts() / f"{name}.png").stat().st_size > 10_000, name


@pytest.mark.ui
@pytest.mark.peer
def test_technician_re_points_the_demo_kiosk_sees_snmp_checks_a_card_and_enrols(
    tmp_path: Path,
) -> None:
    drive("drive_technician_demo.py", str(tmp_path / "demo"), timeout_s=300)
    for name in ("technician-demo-home", "technician-demo-applied", "technician-demo-refused",
                 "technician-demo-annex-jobs-fr", "technician-demo-snmp",
                 "technician-demo-card", "technician-demo-enrolment",
                 "technician-demo-home-fr", "technician-demo-locked-fr"):
        assert (artifacts() / f"{name}.png").stat().st_size > 10_000, name
