"""Release against the real peers: cupsd + ippeveprinter and the backend process.

A PDF is submitted held to a real CUPS queue as ``alice``; the kiosk's job service
analyses the spooled file and prices it with the campus price list; the workflow holds
the estimate on the real backend (through the durable outbox), releases the job, follows
it to completion at the printer and captures. The backend's balance then shows exactly
the captured amount spent and nothing left held.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from analysis import FallbackRule, analyse_isolated, analyse_or_fall_back
from backend.demo import DEMO_TERMINAL_TOKEN
from billing import load_price_list
from drivers.cups import CupsHoldQueue
from terminal.adapters import KioskHoldQueue
from terminal.backend_client import HttpBackend
from terminal.charges import ChargeBook
from terminal.jobs import BillingPricer, JobOptions, JobService
from terminal.offline import OfflinePolicy
from terminal.outbox import Outbox
from terminal.release import ReleaseUpdate, ReleaseWorkflow, Stage

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "jobs"
sys.path.insert(0, str(REPO / "tests" / "drivers" / "cups"))
from cups_peers import PeerStack, running_queue  # noqa: E402

QUEUE = "kiosk"
DOCUMENT = CORPUS / "cups__document-a4.pdf"  # 4 A4 pages, colour on pages 1 and 3

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def cups() -> Iterator[PeerStack]:
    with running_queue(QUEUE, "release-cups-") as stack:
        yield stack


def submit_held(stack: PeerStack, user: str, document: Path) -> int:
    # colour asked explicitly: the queue's default colour mode is not ours to assume
    out = stack.run("lp", "-U", user, "-d", QUEUE, "-H", "hold", "-t", document.name,
                    "-o", "print-color-mode=color", str(document))
    return int(out.split(f"{QUEUE}-")[1].split()[0])


def build(stack: PeerStack, backend_url: str, state: Path) -> tuple[
    JobService, ReleaseWorkflow, HttpBackend, ChargeBook
]:
    queue = KioskHoldQueue(CupsHoldQueue(QUEUE, server="127.0.0.1", port=stack.cups_port,
                                         spool_dir=stack.spool, check_device=True))
    plist_path = REPO / "config" / "pricelists" / "campus-default.toml"
    pricer = BillingPricer(load_price_list(plist_path.read_text(encoding="utf-8"),
                                           str(plist_path)))

    def analyse(path: Path | None, pages: int | None):  # type: ignore[no-untyped-def]
        return analyse_or_fall_back(path or Path("missing"), FallbackRule(), pages,
                                    analyse=analyse_isolated)

    jobs = JobService(queue, pricer, analyse)
    backend = HttpBackend(backend_url, DEMO_TERMINAL_TOKEN)
    book = ChargeBook(Outbox(state / "outbox.sqlite"), backend,
                      OfflinePolicy(enabled=False, spending_limit=Decimal("0")))
    workflow = ReleaseWorkflow(jobs, queue, book, backend.balance, poll_s=0.2,
                               follow_timeout_s=120)
    return jobs, workflow, backend, book


@pytest.mark.skipif(not DOCUMENT.exists(), reason="shared corpus absent")
def test_a_held_job_is_released_printed_and_charged_exactly_what_was_captured(
    cups: PeerStack, demo_backend_url: str, tmp_path: Path
) -> None:
    jobs, workflow, backend, book = build(cups, demo_backend_url, tmp_path)
    job_id = submit_held(cups, "carol", DOCUMENT)
    listed = jobs.list_jobs("carol")
    quote = listed.find(job_id)
    assert (quote.impressions, quote.colour_impressions) == (4, 2)
    assert quote.amount == Decimal("0.60")  # 2 x 0.25 colour + 2 x 0.05 mono, A4 simplex
    mono = jobs.change_options("carol", job_id, JobOptions(colour=False, duplex=False))
    quote = mono.find(job_id)
    assert (quote.amount, quote.colour_impressions) == (Decimal("0.20"), 0)
    assert jobs.list_jobs("carol").find(job_id).options == JobOptions(False, False)

    before = backend.balance("carol")
    updates: list[ReleaseUpdate] = []
    [final] = workflow.release("carol", [quote], updates.append)

    assert final.stage is Stage.CHARGED, final
    printing = next(u for u in updates if u.stage is Stage.PRINTING)
    assert printing.balance is not None and printing.balance.held == Decimal("0.20")
    after = backend.balance("carol")
    assert final.charged == Decimal("0.20") and final.refunded == Decimal("0.00")
    assert final.impressions_done == 4  # as the printer reported them
    assert after.held == Decimal("0.00")
    assert before.available - after.available == final.charged
    assert after == final.balance
    assert book.unsettled() == [] and book.outbox.pending() == []
    assert all(job.job_id != job_id for job in jobs.list_jobs("carol").jobs)
    backend.close()


@pytest.mark.skipif(not DOCUMENT.exists(), reason="shared corpus absent")
def test_a_stopped_printer_is_refused_before_any_hold_and_the_job_stays_held(
    cups: PeerStack, demo_backend_url: str, tmp_path: Path
) -> None:
    jobs, workflow, backend, book = build(cups, demo_backend_url, tmp_path)
    job_id = submit_held(cups, "carol", DOCUMENT)
    quote = jobs.list_jobs("carol").find(job_id)
    before = backend.balance("carol")
    cups.run("cupsdisable", QUEUE)
    try:
        [final] = workflow.release("carol", [quote], lambda _u: None)
    finally:
        cups.run("cupsenable", QUEUE)
    assert (final.stage, final.problem) == (Stage.REFUSED, "printer_stopped")
    assert backend.balance("carol") == before
    assert book.outbox.pending() == [] and book.unsettled() == []
    assert jobs.list_jobs("carol").find(job_id).job_id == job_id
    jobs.delete("carol", job_id)
    backend.close()


@pytest.mark.skipif(not DOCUMENT.exists(), reason="shared corpus absent")
def test_holds_left_by_a_killed_kiosk_are_settled_at_the_next_start(
    cups: PeerStack, demo_backend_url: str, tmp_path: Path
) -> None:
    jobs, _workflow, backend, book = build(cups, demo_backend_url, tmp_path)
    first, second = submit_held(cups, "carol", DOCUMENT), submit_held(cups, "carol", DOCUMENT)
    listed = jobs.list_jobs("carol")
    never_released, printed = listed.find(first), listed.find(second)
    before = backend.balance("carol")
    # the kiosk held both, released one, and was killed before any capture
    for quote in (never_released, printed):
        book.authorise("carol", quote.amount, quote.name, quote.job_ref)
    queue = CupsHoldQueue(QUEUE, server="127.0.0.1", port=cups.cups_port, spool_dir=cups.spool)
    queue.release(printed.job_id)
    for progress in queue.follow(printed.job_id, interval_s=0.2, timeout_s=60):
        state = progress.state
    assert state == "completed"
    assert backend.balance("carol").held == never_released.amount + printed.amount

    # the next start: a new charge book on the same outbox, a new workflow
    _jobs, workflow, backend, book = build(cups, demo_backend_url, tmp_path)
    settled = workflow.recover(book.unsettled())
    assert len(settled) == 2 and book.unsettled() == []
    after = backend.balance("carol")
    assert after.held == Decimal("0.00")
    assert before.available - after.available == printed.amount
    jobs.delete("carol", never_released.job_id)
    backend.close()
