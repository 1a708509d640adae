"""Release against the real peers: cupsd + ippeveprinter and the backend process.

A PDF is submitted held to a real CUPS queue as ``alice``; the kiosk's job service
analyses the spooled file and prices it with the campus price list; the workflow holds
the estimate on the real backend (through the durable outbox), releases the job, follows
it to completion at the printer and captures. The backend's balance then shows exactly
the captured amount spent and nothing left held.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from analysis import FallbackRule, analyse_isolated, analyse_or_fall_back
from backend.demo import DEMO_TERMINAL_TOKEN
from billing import load_price_list
from drivers.cups import CupsError, CupsHoldQueue
from terminal.adapters import KioskHoldQueue
from terminal.backend_client import HttpBackend
from terminal.charges import ChargeBook
from terminal.config import KioskConfig, parse_kiosk_config
from terminal.jobs import BillingPricer, JobOptions, JobService
from terminal.offline import OfflinePolicy
from terminal.outbox import Outbox
from terminal.ports import PrintServerError
from terminal.release import ReleaseUpdate, ReleaseWorkflow, Settlement, Stage
from terminal.wiring import build_terminal

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

    backend.identify_card("1003")  # carol badged: her session carries the hold
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
    backend.identify_card("1003")
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
    backend.identify_card("1003")
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
    backend.identify_card("1003")
    after = backend.balance("carol")
    assert after.held == Decimal("0.00")
    assert before.available - after.available == printed.amount
    jobs.delete("carol", never_released.job_id)
    backend.close()


def kiosk_config(stack: PeerStack, backend_url: str, state: Path) -> KioskConfig:
    return parse_kiosk_config({
        "terminal": {"name": "kiosk 1", "timezone": "Europe/Paris"},
        "backend": {"url": backend_url},
        "card_reader": {"type": "simulated"},
        "printer": {"name": "MFP", "queue": QUEUE, "cups_port": stack.cups_port,
                    "cups_spool_dir": str(stack.spool)},
        "pricing": {"price_list": str(REPO / "config" / "pricelists" / "campus-default.toml")},
        "offline": {"state_dir": str(state)},
    }, "kiosk.toml")


@pytest.mark.skipif(not DOCUMENT.exists(), reason="shared corpus absent")
def test_the_kiosk_start_settles_a_job_still_waiting_to_print_once_it_has_printed(
    cups: PeerStack, demo_backend_url: str, tmp_path: Path
) -> None:
    """Terminal.start, the real restart path: a job released just before the kiosk died
    is still waiting at a paused printer; the new start follows it in the background and
    captures it once printed, and voids the job that was never released."""
    config = kiosk_config(cups, demo_backend_url, tmp_path / "state")
    first, second = submit_held(cups, "carol", DOCUMENT), submit_held(cups, "carol", DOCUMENT)
    dead = build_terminal(config, DEMO_TERMINAL_TOKEN)
    assert dead.jobs is not None and dead.charges is not None
    listed = dead.jobs.list_jobs("carol")
    never_released, waiting = listed.find(first), listed.find(second)
    dead.backend.identify_card("1003")
    before = dead.backend.balance("carol")
    for quote in (never_released, waiting):
        dead.charges.authorise("carol", quote.amount, quote.name, quote.job_ref,
                               impressions=quote.impressions)
    cups.run("cupsdisable", QUEUE)
    try:
        _release_ignoring_state(cups, waiting.job_id)
        dead.close()  # the kiosk dies with both holds open

        kiosk = build_terminal(config, DEMO_TERMINAL_TOKEN)
        assert kiosk.release is not None
        kiosk.release.poll_s = 0.2
        kiosk.start()
        assert kiosk.recovery is not None
        time.sleep(1.0)
        assert not kiosk.recovery.done()  # the released job waits at the paused printer
    finally:
        cups.run("cupsenable", QUEUE)
    try:
        settled = kiosk.recovery.result(timeout=60)
        assert len(settled) == 2
        kiosk.backend.identify_card("1003")
        after = kiosk.backend.balance("carol")
        assert after.held == Decimal("0.00")
        assert before.available - after.available == waiting.amount
        assert kiosk.charges is not None and kiosk.charges.unsettled() == []
    finally:
        assert kiosk.jobs is not None
        kiosk.jobs.delete("carol", never_released.job_id)
        kiosk.close()


def _release_ignoring_state(stack: PeerStack, job_id: int) -> None:
    """Release a held job at the print server whatever the printer's state (lp -H)."""
    stack.run("lp", "-i", str(job_id), "-H", "resume")


@pytest.mark.skipif(not DOCUMENT.exists(), reason="shared corpus absent")
def test_a_cups_error_on_cancel_is_translated_at_the_adapter(
    cups: PeerStack, demo_backend_url: str, tmp_path: Path
) -> None:
    queue = KioskHoldQueue(CupsHoldQueue(QUEUE, server="127.0.0.1", port=cups.cups_port,
                                         spool_dir=cups.spool))
    job_id = submit_held(cups, "carol", DOCUMENT)
    queue.release(job_id)
    deadline = time.monotonic() + 60
    while queue.progress(job_id).state != "completed" and time.monotonic() < deadline:
        time.sleep(0.2)
    with pytest.raises(PrintServerError) as raised:
        queue.cancel(job_id)  # CUPS refuses to cancel a completed job
    assert isinstance(raised.value.__cause__, CupsError)
    with pytest.raises(PrintServerError):
        queue.cancel(999_999)


@pytest.mark.skipif(not DOCUMENT.exists(), reason="shared corpus absent")
def test_a_held_job_nobody_releases_is_purged_with_its_document_by_the_kiosk(
    cups: PeerStack, demo_backend_url: str, tmp_path: Path
) -> None:
    kiosk = build_terminal(kiosk_config(cups, demo_backend_url, tmp_path / "state"),
                           DEMO_TERMINAL_TOKEN)
    assert kiosk.purger is not None and kiosk.purger.max_age == timedelta(hours=48)
    job_id = submit_held(cups, "carol", DOCUMENT)
    queue = CupsHoldQueue(QUEUE, server="127.0.0.1", port=cups.cups_port, spool_dir=cups.spool)
    document = queue.job(job_id).document
    assert document is not None and document.exists()
    assert kiosk.purger.purge_once() == []  # too young for the configured age
    kiosk.purger.max_age = timedelta(0)  # what 48 hours later looks like
    kiosk.start()
    try:
        deadline = time.monotonic() + 30
        while document.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not document.exists()
        assert all(job.job_id != job_id for job in queue.held_jobs("carol"))
    finally:
        kiosk.close()


@pytest.mark.skipif(not DOCUMENT.exists(), reason="shared corpus absent")
def test_print_all_prints_a_free_mono_job_and_a_paid_colour_one_through_the_real_backend(
    cups: PeerStack, demo_backend_url: str, tmp_path: Path
) -> None:
    """Issue 11: with the campus list's free mono pages, the free thesis and the paid
    slides print in one Print all; the free job is held, released and captured at 0.00."""
    kiosk = build_terminal(kiosk_config(cups, demo_backend_url, tmp_path / "state"),
                           DEMO_TERMINAL_TOKEN)
    try:
        assert kiosk.jobs is not None and kiosk.release is not None
        kiosk.backend.identify_card("1001")  # alice badges: her list and prices follow
        thesis = submit_held(cups, "alice", DOCUMENT)
        slides = submit_held(cups, "alice", DOCUMENT)
        kiosk.jobs.change_options("alice", thesis, JobOptions(colour=False, duplex=False))
        listed = kiosk.jobs.list_jobs("alice")
        free, paid = listed.find(thesis), listed.find(slides)
        assert free.amount == Decimal("0.00") and paid.amount > Decimal("0.00")
        before = kiosk.backend.balance("alice")
        finals = kiosk.release.release("alice", [free, paid], lambda _u: None)
        assert [(f.stage, f.settlement, f.outcome) for f in finals] == [
            (Stage.CHARGED, Settlement.CHARGED, "job_completed")] * 2
        assert finals[0].charged == Decimal("0.00") and finals[0].impressions_done == 4
        after = kiosk.backend.balance("alice")
        assert before.available - after.available == finals[1].charged == paid.amount
        assert after.held == Decimal("0.00")
        assert kiosk.charges is not None and kiosk.charges.unsettled() == []
    finally:
        kiosk.close()
