"""The release flow in a real window (Xvfb) against the real backend, cupsd and printer."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "jobs"
sys.path.insert(0, str(REPO / "tests" / "drivers" / "cups"))
from cups_peers import PeerStack, running_queue  # noqa: E402

QUEUE = "kiosk"


def artifacts() -> Path:
    default = REPO / "test-artifacts"
    return Path(os.environ.get("PRINTKIOSK_TEST_ARTIFACTS", default)) / "screens"


@pytest.fixture(scope="module")
def cups() -> Iterator[PeerStack]:
    with running_queue(QUEUE, "kiosk-cups-") as stack:
        yield stack


def submit_held(stack: PeerStack, user: str, name: str, copies: int = 1) -> None:
    stack.run("lp", "-U", user, "-d", QUEUE, "-H", "hold", "-n", str(copies), "-t", name,
              "-o", "print-color-mode=color",
              str(CORPUS / name))


@pytest.mark.ui
@pytest.mark.peer
@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus absent")
def test_badge_switch_to_mono_print_all_charged_then_logout(
    demo_backend_url: str, cups: PeerStack, tmp_path: Path
) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.fail("UI tests need an X display: run them through scripts/test.sh (xvfb-run)")
    submit_held(cups, "carol", "cups__document-a4.pdf")
    submit_held(cups, "carol", "cups__onepage-letter.pdf")
    submit_held(cups, "bob", "cups__document-a4.pdf", copies=10)
    result = subprocess.run(
        [sys.executable, str(HERE / "drive_release.py"), demo_backend_url, str(cups.cups_port),
         str(cups.spool), str(tmp_path / "state")],
        capture_output=True, text=True, timeout=180, cwd=HERE,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    for name in ("release-home", "release-detail-mono", "release-printing", "release-charged",
                 "release-insufficient", "release-home-fr-800x480", "release-detail-fr-800x480"):
        assert (artifacts() / f"{name}.png").stat().st_size > 10_000, name


@pytest.mark.ui
def test_every_release_outcome_says_what_was_printed_and_what_was_charged() -> None:
    if not os.environ.get("DISPLAY"):
        pytest.fail("UI tests need an X display: run them through scripts/test.sh (xvfb-run)")
    result = subprocess.run([sys.executable, str(HERE / "drive_outcomes.py")],
                            capture_output=True, text=True, timeout=120, cwd=HERE)
    assert result.returncode == 0, result.stderr[-4000:]
    for name in ("outcome-mixed-800x480", "outcome-cut-short-800x480", "outcome-void-800x480",
                 "outcome-code-pays-800x480", "outcome-picker-code-pays-800x480",
                 "outcome-list-offline-prices-800x480",
                 "outcome-list-pricing-unavailable-800x480", "outcome-mixed-fr-800x480"):
        # a real shot, not an empty window (the problem alone on black is about 9 kB)
        assert (artifacts() / f"{name}.png").stat().st_size > 5_000, name
