"""A printer that is stopped, jammed or out of toner is not released to: the reason is
clear and the job stays held where it was. Real cupsd queues for the refusals; the
keyword rules themselves are checked directly below."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cups_peers import (
    FOLLOW_ME,
    PeerStack,
    add_queue,
    free_port,
    printer_jobs,
    set_state_reasons,
    submit,
)

from drivers.cups import CupsHoldQueue, PrinterNotReady, problem_of


def fresh_queue(stack: PeerStack, *, enabled: bool = True) -> CupsHoldQueue:
    name = f"kiosk-{uuid.uuid4().hex[:8]}"
    add_queue(stack, name, enabled=enabled)
    return CupsHoldQueue(
        name, port=stack.cups_port, follow_me_queues=[FOLLOW_ME], spool_dir=stack.spool
    )


@pytest.mark.peer
def test_stopped_printer_refuses_and_the_follow_me_job_stays_put(
    cups_stack: PeerStack, corpus_jobs: Path
) -> None:
    queue = fresh_queue(cups_stack, enabled=False)
    title = f"stopped-{uuid.uuid4().hex[:8]}"
    job_id = submit(cups_stack, FOLLOW_ME, "ned", corpus_jobs / "cups__onepage-letter.pdf", title)
    assert queue.printer_problem() == "printer_stopped"

    with pytest.raises(PrinterNotReady) as refused:
        queue.release(job_id)

    assert refused.value.reason == "printer_stopped"
    assert "paused" in refused.value.details
    job = queue.job(job_id)
    assert (job.state, job.queue) == ("pending-held", FOLLOW_ME)
    assert title not in printer_jobs(cups_stack)


@pytest.mark.peer
@pytest.mark.parametrize(
    ("reasons", "expected"),
    [
        (("media-jam-error",), "printer_jammed"),
        (("toner-empty-error",), "toner_empty"),
        (("marker-supply-empty-error", "media-low-warning"), "toner_empty"),
    ],
)
def test_jammed_or_empty_printer_refuses_and_the_job_stays_held(
    cups_stack: PeerStack, corpus_jobs: Path, reasons: tuple[str, ...], expected: str
) -> None:
    queue = fresh_queue(cups_stack)
    set_state_reasons(cups_stack, queue.printer, *reasons)
    job_id = submit(
        cups_stack, queue.printer, "ola", corpus_jobs / "cups__onepage-letter.pdf", "x"
    )

    with pytest.raises(PrinterNotReady) as refused:
        queue.release(job_id)

    assert refused.value.reason == expected
    assert set(reasons) <= set(refused.value.details)
    assert queue.job(job_id).state == "pending-held"

    set_state_reasons(cups_stack, queue.printer, "none")  # fixed: now it prints
    queue.release(job_id)
    final = list(queue.follow(job_id, interval_s=0.1, timeout_s=60))[-1]
    assert final.state == "completed"


@pytest.mark.peer
def test_unreachable_device_is_offline_and_the_job_stays_held(
    cups_stack: PeerStack, corpus_jobs: Path
) -> None:
    """CUPS itself says idle (it learns of a dead device only while sending a job)."""
    name = f"kiosk-{uuid.uuid4().hex[:8]}"
    dead_device = f"ipp://localhost:{free_port()}/ipp/print"
    cups_stack.lpadmin("-p", name, "-E", "-v", dead_device, "-m", "raw")
    queue = CupsHoldQueue(name, port=cups_stack.cups_port, spool_dir=cups_stack.spool)
    job_id = submit(cups_stack, name, "pat", corpus_jobs / "cups__onepage-letter.pdf", "x")

    with pytest.raises(PrinterNotReady) as refused:
        queue.release(job_id)

    assert refused.value.reason == "printer_offline"
    assert queue.job(job_id).state == "pending-held"


@pytest.mark.peer
def test_ready_printer_and_its_device_have_no_problem(cups_stack: PeerStack) -> None:
    status = fresh_queue(cups_stack).printer_status()
    assert (status.state, status.accepting_jobs, status.problem) == ("idle", True, None)


@pytest.mark.parametrize(
    ("state", "reasons", "accepting", "expected"),
    [
        ("idle", ("none",), True, None),
        ("idle", ("toner-low-warning", "media-low-report"), True, None),
        ("processing", (), True, None),
        ("stopped", ("paused",), True, "printer_stopped"),
        ("stopped", ("media-jam-error", "paused"), True, "printer_jammed"),
        ("idle", ("media-jam",), True, "printer_jammed"),
        ("idle", ("toner-empty-error",), True, "toner_empty"),
        ("idle", ("marker-supply-empty-error",), True, "toner_empty"),
        ("idle", ("media-empty-error",), True, "paper_empty"),
        ("idle", ("door-open-error",), True, "door_open"),
        ("idle", ("offline-report",), True, None),
        ("stopped", ("some-vendor-error",), True, "printer_stopped"),
        ("idle", ("some-vendor-error",), True, "printer_error"),
        ("idle", ("none",), False, "printer_not_accepting"),
    ],
)
def test_problem_keys(
    state: str, reasons: tuple[str, ...], accepting: bool, expected: str | None
) -> None:
    assert problem_of(state, reasons, accepting) == expected
