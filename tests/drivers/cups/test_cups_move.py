"""The follow-me move pitfall, measured on the real cupsd, and proof that our pull/release
prints a job only on the kiosk's command.

What CUPS 2.4 really does (the control cases below keep it honest):
- a job held by its own ``job-hold-until=indefinite`` stays held when moved;
- a job merely pending in a *stopped* follow-me queue prints the moment it is moved to an
  enabled queue. ``CupsHoldQueue.pull`` pins the hold on the job before moving it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cups_peers import FOLLOW_ME, KIOSK, PAUSED_FOLLOW_ME, PeerStack, printer_jobs, submit

from drivers.cups import CupsHoldQueue, JobProgress

cups = pytest.importorskip("cups")
pytestmark = pytest.mark.peer
FOLLOW_S = 60  # a safety net against hanging, not a speed requirement


def kiosk_queue(stack: PeerStack) -> CupsHoldQueue:
    return CupsHoldQueue(
        KIOSK,
        port=stack.cups_port,
        follow_me_queues=[FOLLOW_ME, PAUSED_FOLLOW_ME],
        spool_dir=stack.spool,
    )


def final(queue: CupsHoldQueue, job_id: int) -> JobProgress:
    return list(queue.follow(job_id, interval_s=0.1, timeout_s=FOLLOW_S))[-1]


def test_plain_move_out_of_a_stopped_queue_prints_at_once(
    cups_stack: PeerStack, corpus_jobs: Path
) -> None:
    """The pitfall itself: no release command, yet the job prints."""
    queue = kiosk_queue(cups_stack)
    title = f"pitfall-{uuid.uuid4().hex[:8]}"
    job_id = submit(
        cups_stack, PAUSED_FOLLOW_ME, "kim", corpus_jobs / "cups__onepage-letter.pdf", title,
        hold=False,
    )
    assert queue.job(job_id).state == "pending"  # waiting only because the queue is stopped

    connection = cups.Connection(host="127.0.0.1", port=cups_stack.cups_port)
    connection.moveJob(
        job_id=job_id, job_printer_uri=f"ipp://localhost:{cups_stack.cups_port}/printers/{KIOSK}"
    )

    assert final(queue, job_id).state == "completed"
    assert title in printer_jobs(cups_stack)


def test_pull_keeps_the_job_held_until_release(
    cups_stack: PeerStack, corpus_jobs: Path
) -> None:
    queue = kiosk_queue(cups_stack)
    document = corpus_jobs / "cups__onepage-letter.pdf"
    ours_title, control_title = (f"{n}-{uuid.uuid4().hex[:8]}" for n in ("ours", "control"))
    ours = submit(cups_stack, PAUSED_FOLLOW_ME, "lea", document, ours_title, hold=False)
    control = submit(cups_stack, PAUSED_FOLLOW_ME, "lea", document, control_title, hold=False)
    assert [job.job_id for job in queue.held_jobs("lea")] == [ours, control]

    queue.pull(ours)
    pulled = queue.job(ours)
    assert (pulled.queue, pulled.state) == (KIOSK, "pending-held")

    # the control job takes the plain move and prints through the same kiosk queue:
    # once it has completed, the scheduler has had every chance to start ours too
    connection = cups.Connection(host="127.0.0.1", port=cups_stack.cups_port)
    connection.moveJob(
        job_id=control,
        job_printer_uri=f"ipp://localhost:{cups_stack.cups_port}/printers/{KIOSK}",
    )
    assert final(queue, control).state == "completed"
    assert queue.job(ours).state == "pending-held"
    at_printer = printer_jobs(cups_stack)
    assert control_title in at_printer and ours_title not in at_printer

    queue.release(ours)

    assert final(queue, ours).state == "completed"
    assert ours_title in printer_jobs(cups_stack)


def test_release_moves_a_held_follow_me_job_and_prints_it_here(
    cups_stack: PeerStack, corpus_jobs: Path
) -> None:
    queue = kiosk_queue(cups_stack)
    title = f"followme-{uuid.uuid4().hex[:8]}"
    job_id = submit(cups_stack, FOLLOW_ME, "max", corpus_jobs / "cups__document-a4.pdf", title)
    listed = queue.held_jobs("max")
    assert [(job.job_id, job.queue) for job in listed] == [(job_id, FOLLOW_ME)]

    queue.release(job_id)
    done = final(queue, job_id)

    assert queue.job(job_id).queue == KIOSK
    assert (done.state, done.impressions_completed) == ("completed", 4)
    assert title in printer_jobs(cups_stack)
