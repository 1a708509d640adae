"""CupsHoldQueue against a real cupsd printing to ippeveprinter: list, change, release,
cancel, purge, and errors translated into the library's own exceptions."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cups_peers import FOLLOW_ME, KIOSK, PeerStack, free_port, printer_jobs, submit

from drivers.cups import (
    CupsHoldQueue,
    CupsUnavailable,
    JobNotFound,
    JobNotHeld,
    JobProgress,
)

pytestmark = pytest.mark.peer
FOLLOW_S = 60  # a safety net against hanging, not a speed requirement


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def queue_for(stack: PeerStack) -> CupsHoldQueue:
    return CupsHoldQueue(
        KIOSK,
        server="127.0.0.1",
        port=stack.cups_port,
        follow_me_queues=[FOLLOW_ME],
        spool_dir=stack.spool,
    )


def final(queue: CupsHoldQueue, job_id: int) -> JobProgress:
    return list(queue.follow(job_id, interval_s=0.1, timeout_s=FOLLOW_S))[-1]


def test_lists_only_the_users_held_jobs_with_their_attributes(
    cups_stack: PeerStack, corpus_jobs: Path
) -> None:
    user, other = unique("dave"), unique("erin")
    document = corpus_jobs / "cups__document-a4.pdf"
    before = datetime.now(UTC).replace(microsecond=0)
    first = submit(
        cups_stack, KIOSK, user, document, "report",
        "print-color-mode=color", "copies=2", "number-up=2", "media=iso_a4_210x297mm",
    )
    second = submit(
        cups_stack, FOLLOW_ME, user, corpus_jobs / "cups__onepage-letter.pdf", "letter",
        "print-color-mode=monochrome", "sides=two-sided-long-edge",
    )
    submit(cups_stack, KIOSK, other, document, "not dave's")

    jobs = queue_for(cups_stack).held_jobs(user)

    assert [job.job_id for job in jobs] == [first, second]
    report, letter = jobs
    assert (report.name, report.username, report.queue) == ("report", user, KIOSK)
    assert report.state == "pending-held"
    assert report.uuid.startswith("urn:uuid:") and report.uuid != letter.uuid
    assert report.submitted_at >= before
    assert (report.copies, report.number_up, report.colour, report.duplex) == (2, 2, True, False)
    assert report.media == "iso_a4_210x297mm"
    assert report.size_bytes >= document.stat().st_size
    assert report.document is not None
    assert report.document.read_bytes() == document.read_bytes()
    assert (letter.queue, letter.colour, letter.duplex, letter.copies) == (
        FOLLOW_ME, False, True, 1,
    )


def test_switch_to_mono_duplex_then_release_prints_so(
    cups_stack: PeerStack, corpus_jobs: Path
) -> None:
    queue = queue_for(cups_stack)
    title = unique("mono-duplex")
    job_id = submit(
        cups_stack, KIOSK, unique("fay"), corpus_jobs / "cups__document-a4.pdf", title,
        "print-color-mode=color", "sides=one-sided",
    )

    queue.set_options(job_id, colour=False, duplex=True)
    changed = queue.job(job_id)
    assert (changed.color_mode, changed.sides, changed.state) == (
        "monochrome", "two-sided-long-edge", "pending-held",
    )
    assert title not in printer_jobs(cups_stack)

    queue.release(job_id)
    done = final(queue, job_id)

    assert done.state == "completed"
    assert done.impressions_completed == 4  # the document's four pages
    at_printer = printer_jobs(cups_stack)[title]
    assert at_printer["print-color-mode"] == ["monochrome"]
    assert at_printer["sides"] == ["two-sided-long-edge"]
    assert at_printer["job-state"] == [9]  # completed


def test_follow_reports_each_change_until_the_end(
    cups_stack: PeerStack, corpus_jobs: Path
) -> None:
    queue = queue_for(cups_stack)
    job_id = submit(
        cups_stack, KIOSK, unique("gus"), corpus_jobs / "cups__onepage-letter.pdf", unique("f")
    )
    queue.release(job_id)

    seen = list(queue.follow(job_id, interval_s=0.05, timeout_s=FOLLOW_S))

    assert seen[-1].finished and seen[-1].state == "completed"
    assert seen[-1].impressions_completed == 1
    assert all(not progress.finished for progress in seen[:-1])
    assert len(set(seen)) == len(seen)  # only changes are reported


def test_cancel_removes_the_job_from_the_list(cups_stack: PeerStack, corpus_jobs: Path) -> None:
    queue = queue_for(cups_stack)
    user = unique("hal")
    job_id = submit(cups_stack, KIOSK, user, corpus_jobs / "cups__onepage-letter.pdf", "x")

    queue.cancel(job_id)

    assert queue.job(job_id).state == "canceled"
    assert queue.held_jobs(user) == []


def test_a_finished_job_cannot_be_released_or_changed(
    cups_stack: PeerStack, corpus_jobs: Path
) -> None:
    queue = queue_for(cups_stack)
    job_id = submit(cups_stack, KIOSK, unique("ivy"), corpus_jobs / "cups__onepage-letter.pdf", "x")
    queue.cancel(job_id)

    with pytest.raises(JobNotHeld, match="canceled"):
        queue.release(job_id)
    with pytest.raises(JobNotHeld):
        queue.set_options(job_id, colour=False, duplex=True)


def test_purge_cancels_only_jobs_older_than_the_age(
    cups_stack: PeerStack, corpus_jobs: Path
) -> None:
    queue = queue_for(cups_stack)
    user = unique("jo")
    document = corpus_jobs / "cups__onepage-letter.pdf"
    old = submit(cups_stack, FOLLOW_ME, user, document, "old")
    # CUPS stamps jobs in whole seconds: let the clock pass a second boundary
    boundary = datetime.fromtimestamp(int(time.time()) + 1, UTC)
    while datetime.now(UTC) < boundary:
        time.sleep(0.05)
    young = submit(cups_stack, KIOSK, user, document, "young")

    purged = queue.purge_older_than(timedelta(hours=24), now=boundary + timedelta(hours=24))

    assert old in purged and young not in purged
    assert [job.job_id for job in queue.held_jobs(user)] == [young]
    with pytest.raises(JobNotFound):  # purged: gone from the history too
        queue.job(old)
    assert not (cups_stack.spool / f"d{old:05d}-001").exists()  # document purged too


def test_unknown_job_is_job_not_found_with_cause(cups_stack: PeerStack) -> None:
    with pytest.raises(JobNotFound) as caught:
        queue_for(cups_stack).cancel(999_999)
    assert caught.value.job_id == 999_999
    assert caught.value.__cause__ is not None


def test_unreachable_server_is_cups_unavailable() -> None:
    queue = CupsHoldQueue(KIOSK, server="127.0.0.1", port=free_port(), timeout_s=2)
    with pytest.raises(CupsUnavailable) as caught:
        queue.held_jobs("anyone")
    assert caught.value.__cause__ is not None
    with pytest.raises(CupsUnavailable):
        queue.set_options(1, colour=False, duplex=False)
