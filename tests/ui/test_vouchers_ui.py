"""Redeeming vouchers at the demo kiosk in a real window (Xvfb), English and French:
typo caught live, corrected and redeemed, redeemed again, scanned, offline (issue 13)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.harness import artifacts_dir

HERE = Path(__file__).resolve().parent
SCREENS = ("voucher-demo-idle", "voucher-not-enough-credit-en", "voucher-typo-en",
           "voucher-credited-en", "voucher-add-credit-en", "voucher-already-redeemed-en",
           "voucher-scanned-en", "voucher-typo-fr", "voucher-credited-fr",
           "voucher-offline-fr")


@pytest.mark.ui
@pytest.mark.peer
def test_a_typo_is_caught_then_the_voucher_is_redeemed_in_english_and_french(
    tmp_path: Path,
) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.fail("UI tests need an X display: run them through scripts/test.sh (xvfb-run)")
    result = subprocess.run(
        [sys.executable, str(HERE / "drive_vouchers.py"), str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=300, cwd=HERE,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    for name in SCREENS:
        assert (artifacts_dir() / f"{name}.png").stat().st_size > 10_000, name
