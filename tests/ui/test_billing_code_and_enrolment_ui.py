"""The billing-code picker and card self-enrolment in a real window (Xvfb), against the
real backend (and for the picker, the real cupsd and printer)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "jobs"
sys.path.insert(0, str(REPO / "tests" / "drivers" / "cups"))
sys.path.insert(0, str(REPO / "tests" / "terminal"))
from backend_process import BackendProcess  # noqa: E402
from billing_code_seed import import_billing_codes  # noqa: E402
from cups_peers import PeerStack, running_queue  # noqa: E402

QUEUE = "kiosk"
TOKEN = "demo-terminal-token"


def artifacts() -> Path:
    default = REPO / "test-artifacts"
    return Path(os.environ.get("PRINTKIOSK_TEST_ARTIFACTS", default)) / "screens"


def drive(*args: str) -> None:
    """Run one UI scenario in its own process (one Kivy window per process)."""
    if not os.environ.get("DISPLAY"):
        pytest.fail("UI tests need an X display: run them through scripts/test.sh (xvfb-run)")
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                            timeout=180, cwd=HERE)
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.mark.ui
def test_unknown_card_associated_with_bob_then_identifies_him(demo_backend_url: str) -> None:
    card = "55" + uuid.uuid4().hex[:8].upper()
    drive(str(HERE / "drive_enrolment.py"), demo_backend_url, card)
    for name in ("enrol-offer-800x480", "enrol-form-800x480", "enrol-wrong-pin-800x480",
                 "enrol-wrong-pin-1024x600", "enrol-home-800x480"):
        assert (artifacts() / f"{name}.png").stat().st_size > 10_000, name


@pytest.fixture
def coded_backend(tmp_path: Path) -> Iterator[BackendProcess]:
    """A backend of our own: billing codes imported, so the shared one stays as seeded."""
    process = BackendProcess(tmp_path / "backend")
    process.data_dir.mkdir()
    process.start()
    try:
        import_billing_codes(process.data_dir)
        yield process
    finally:
        process.stop()


@pytest.fixture
def cups() -> Iterator[PeerStack]:
    with running_queue(QUEUE, "kiosk-cups-") as stack:
        yield stack


def hold_codes(process: BackendProcess) -> dict[str, tuple[str, str | None]]:
    """job_ref -> (status, billing code) of every hold, read from the backend's ledger."""
    with sqlite3.connect(process.data_dir / "backend.sqlite3") as db:
        rows = db.execute(
            "SELECT h.job_ref, h.status, c.code FROM holds h "
            "LEFT JOIN billing_codes c ON c.id = h.billing_code_id"
        ).fetchall()
    return {str(ref): (str(status), code) for ref, status, code in rows}


@pytest.mark.ui
@pytest.mark.peer
@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus absent")
def test_required_billing_code_picked_from_recent_goes_with_the_hold(
    coded_backend: BackendProcess, cups: PeerStack, tmp_path: Path
) -> None:
    from terminal.backend_client import HttpBackend

    client = HttpBackend(coded_backend.url, TOKEN)
    try:  # carol charged GLOBEX-AUDIT before: it is her recent code
        hold = client.hold(uuid.uuid4().hex, "carol", Decimal("0.10"), "earlier", "before-1",
                           "GLOBEX-AUDIT")
        client.capture(uuid.uuid4().hex, hold.hold_id, Decimal("0.10"), 1, 0)
    finally:
        client.close()
    # A4 documents only: every price list the backend may choose for carol prices A4
    for title in ("cups__document-a4.pdf", "second-a4.pdf"):
        cups.run("lp", "-U", "carol", "-d", QUEUE, "-H", "hold", "-t", title,
                 str(CORPUS / "cups__document-a4.pdf"))
    drive(str(HERE / "drive_billing_code.py"), coded_backend.url, str(cups.cups_port),
          str(cups.spool), str(tmp_path / "state"))
    released = [found for ref, found in hold_codes(coded_backend).items()
                if ref.startswith("cups-")]
    # the first job with the recent code picked (required), the second with "No code"
    assert len(released) == 2, released
    assert set(released) == {("captured", "GLOBEX-AUDIT"), ("captured", None)}, released
    for name in ("billing-picker-recent-1024x600", "billing-picker-search-1024x600",
                 "billing-picker-search-800x480", "billing-picker-optional-800x480",
                 "billing-picker-fr-800x480"):
        assert (artifacts() / f"{name}.png").stat().st_size > 10_000, name


# ACME pays for its codes (inherited by its projects); GLOBEX leaves it to the user
PAYING_CODES_CSV = """code,name,parent,active,assigned_to,payer
ACME,ACME Corp,,true,group:staff,code
ACME-WEB,Website redesign,ACME,true,user:bob,
GLOBEX,Globex,,true,,user
"""


@pytest.mark.ui
@pytest.mark.peer
@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus absent")
def test_a_code_its_client_pays_says_so_and_leaves_the_users_balance(
    tmp_path: Path, cups: PeerStack
) -> None:
    process = BackendProcess(tmp_path / "backend")
    process.data_dir.mkdir()
    process.start()
    try:
        import_billing_codes(process.data_dir, PAYING_CODES_CSV)
        cups.run("lp", "-U", "carol", "-d", QUEUE, "-H", "hold", "-t", "cups__document-a4.pdf",
                 str(CORPUS / "cups__document-a4.pdf"))
        drive(str(HERE / "drive_code_pays.py"), process.url, str(cups.cups_port),
              str(cups.spool), str(tmp_path / "state"))
        released = [found for ref, found in hold_codes(process).items()
                    if ref.startswith("cups-")]
        assert released == [("captured", "ACME-WEB")], released
    finally:
        process.stop()
    for name in ("code-pays-picker-800x480", "code-pays-charged-800x480"):
        assert (artifacts() / f"{name}.png").stat().st_size > 10_000, name
