"""The 3D job calls of the HTTP client (terminal.ports.Print3DJobs) against a real
backend process with the demo data: list with the user's session, claim under a hold
(resent: the same claim), the G-code streamed to a temporary file then renamed, a
settlement resent with its key (one charge), refusals as BackendRejected with the
backend's code, and BackendUnavailable when the backend is down."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from backend_process import BackendProcess

from backend.demo import DEMO_PRINT3D_GROUP, DEMO_PRINT3D_JOBS, DEMO_TERMINAL_TOKEN
from backend.demo_gcode import cube_gcode
from terminal.backend_client import HttpBackend
from terminal.ports import BackendRejected, BackendUnavailable, Print3DJob


@pytest.fixture
def client(backend_process: BackendProcess) -> Iterator[HttpBackend]:
    backend = HttpBackend(backend_process.url, DEMO_TERMINAL_TOKEN)
    backend.identify_card("1001")  # Alice: her session goes with the listing
    yield backend
    backend.close()


def alice_jobs(client: HttpBackend) -> dict[str, Print3DJob]:
    return {job.name: job for job in client.print3d_jobs("alice", DEMO_PRINT3D_GROUP)}


def test_list_claim_download_settle(client: HttpBackend, backend_process: BackendProcess,
                                    tmp_path: Path) -> None:
    jobs = alice_jobs(client)
    assert sorted(jobs) == ["bracket-mk3s.gcode", "demo-cube.gcode"]
    fine, flagged = jobs["demo-cube.gcode"], jobs["bracket-mk3s.gcode"]
    assert fine.releasable and fine.status == "ready" and fine.material == "PLA"
    assert fine.grams > 0 and fine.metres > 0 and fine.minutes > 0
    assert fine.hold_amount >= fine.price > 0 and fine.currency == "EUR"
    assert fine.uploaded_at.tzinfo is not None
    assert not flagged.releasable
    assert [(f.code, f.expected, f.found, f.blocks_release) for f in flagged.flags] == [
        ("printer_model_mismatch", "MK4", "MK3S", True)]

    hold = client.hold("print3d-hold-1", "alice", fine.hold_amount, f"3D: {fine.name}",
                       f"print3d:{fine.job_id}", session=client.session_of("alice"))
    claimed = client.claim_print3d(fine.job_id, hold.hold_id)
    assert claimed.status == "printing"
    assert client.claim_print3d(fine.job_id, hold.hold_id) == claimed

    target = tmp_path / "kiosk" / "job.gcode"
    target.parent.mkdir()
    assert client.download_print3d(fine.job_id, target) == target
    demo = next(d for d in DEMO_PRINT3D_JOBS if d.name == "demo-cube.gcode")
    assert target.read_text() == cube_gcode(demo.size_mm, demo.layers, printer_model="MK4",
                                            name=demo.name).text
    assert sorted(p.name for p in target.parent.iterdir()) == ["job.gcode"]

    before = backend_process.charge_count()
    position = target.stat().st_size // 2
    settled = client.settle_print3d("print3d-settle-1", hold.hold_id, fine.job_id,
                                    "cancelled", position, 30, Decimal("123.45"))
    assert (settled.job_id, settled.outcome, settled.policy) == (
        fine.job_id, "cancelled", "charge_printed")
    assert Decimal("0") < settled.grams < fine.grams
    assert Decimal("0") < settled.charged < fine.hold_amount
    assert settled.balance is not None and settled.balance.held == Decimal("0.00")
    again = client.settle_print3d("print3d-settle-1", hold.hold_id, fine.job_id,
                                  "cancelled", position, 30, Decimal("123.45"))
    assert again == settled
    assert backend_process.charge_count() == before + 1
    assert [h.status for h in backend_process.holds()
            if h.job_ref == f"print3d:{fine.job_id}"] == ["captured"]
    assert "demo-cube.gcode" not in alice_jobs(client)


def test_refusals_carry_the_backends_code(client: HttpBackend, tmp_path: Path) -> None:
    flagged = alice_jobs(client)["bracket-mk3s.gcode"]
    hold = client.hold("print3d-hold-2", "alice", flagged.hold_amount, "3D: bracket",
                       f"print3d:{flagged.job_id}", session=client.session_of("alice"))
    with pytest.raises(BackendRejected) as refused:
        client.claim_print3d(flagged.job_id, hold.hold_id)
    assert (refused.value.code, refused.value.status) == ("print3d_flagged", 409)
    with pytest.raises(BackendRejected) as not_claimed:
        client.download_print3d(flagged.job_id, tmp_path / "x.gcode")
    assert not_claimed.value.code == "print3d_not_claimed"
    assert list(tmp_path.glob("x.gcode*")) == []
    with pytest.raises(BackendRejected) as no_session:
        client.print3d_jobs("bob", DEMO_PRINT3D_GROUP)  # bob never badged here
    assert no_session.value.code == "session_required"


def test_a_backend_that_is_down_is_unavailable(client: HttpBackend,
                                               backend_process: BackendProcess,
                                               tmp_path: Path) -> None:
    backend_process.stop()
    with pytest.raises(BackendUnavailable):
        client.print3d_jobs("alice", DEMO_PRINT3D_GROUP)
    with pytest.raises(BackendUnavailable):
        client.download_print3d(1, tmp_path / "y.gcode")
    with pytest.raises(BackendUnavailable):
        client.settle_print3d("print3d-settle-9", "abc", 1, "completed", None, None, None)
    assert client.reachable is False
