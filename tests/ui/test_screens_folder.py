"""The UI tests' screenshot folder holds this run's screenshots only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_ui_test_run_starts_with_an_empty_screens_folder(tmp_path: Path) -> None:
    screens = tmp_path / "screens"
    screens.mkdir()
    (screens / "renamed-test-800x480.png").write_bytes(b"\x89PNG stale")
    (screens / "notes.txt").write_text("not a screenshot: kept")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PRINTKIOSK_TEST_ARTIFACTS": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/ui/test_catalogues.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    # the UI tests ran (whatever their own verdict: that is theirs to report)
    assert done.returncode in (0, 1) and " passed" in done.stdout, done.stdout + done.stderr
    assert sorted(path.name for path in screens.iterdir()) == ["notes.txt"]
