"""The release workflow through in-memory fakes: hold, print, follow, capture, refuse."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from test_jobs_fakes import (
    FakeCharges,
    FakeHeldJob,
    FakeHoldQueue,
    FakeMonitor,
    FakePricer,
    FakeProgress,
    document,
)

from analysis import DocumentAnalysis
from terminal.jobs import JobService, PrinterRefused
from terminal.ports import BackendRejected
from terminal.release import ReleaseUpdate, ReleaseWorkflow, Stage

REPORT = document("c", "m", "m", "c")  # 0.54 one-sided in colour


def analyse(_path: Path | None, _pages: int | None) -> DocumentAnalysis:
    return REPORT


def setup(
    *jobs: FakeHeldJob, available: str = "10.00", monitor: FakeMonitor | None = None
) -> tuple[ReleaseWorkflow, JobService, FakeHoldQueue, FakeCharges]:
    queue = FakeHoldQueue(jobs or [FakeHeldJob(4, "report.pdf")])
    charges = FakeCharges(available)
    service = JobService(queue, FakePricer(), analyse)
    workflow = ReleaseWorkflow(service, queue, charges, charges.balance,
                               monitor=monitor, sleep=lambda _s: None)
    return workflow, service, queue, charges


def run(workflow: ReleaseWorkflow, service: JobService) -> tuple[list[ReleaseUpdate],
                                                                list[ReleaseUpdate]]:
    updates: list[ReleaseUpdate] = []
    finals = workflow.release("alice", service.list_jobs("alice").jobs, updates.append)
    return finals, updates


def test_completed_job_is_held_released_and_charged_its_price() -> None:
    workflow, service, queue, charges = setup()
    queue.script[4] = [FakeProgress("processing", 1), FakeProgress("processing", 3),
                       FakeProgress("completed", 4)]
    finals, updates = run(workflow, service)
    assert [c[0] for c in charges.calls] == ["authorise", "capture"]
    assert charges.calls[0] == ("authorise", "alice", Decimal("0.54"), "cups-4")
    assert charges.calls[1] == ("capture", "hold-1", Decimal("0.54"), 4, 2)
    final = finals[0]
    assert final.stage is Stage.CHARGED and final.problem is None
    assert (final.charged, final.refunded) == (Decimal("0.54"), Decimal("0.00"))
    assert final.balance is not None and final.balance.available == Decimal("9.46")
    stages = [(u.stage, u.impressions_done) for u in updates]
    assert stages[:3] == [(Stage.WAITING, 0), (Stage.HOLDING, 0), (Stage.PRINTING, 0)]
    assert (Stage.PRINTING, 3) in stages
    printing = next(u for u in updates if u.stage is Stage.PRINTING)
    assert printing.held == Decimal("0.54") and printing.balance is not None
    assert printing.balance.held == Decimal("0.54")  # shown as held while printing
    # the hold precedes the release at the print server
    assert queue.calls.index(("release", 4)) > queue.calls.index(("printer_problem",))


def test_a_jam_stops_the_job_cancels_it_and_charges_only_the_printed_pages() -> None:
    workflow, service, queue, charges = setup()
    queue.script[4] = [FakeProgress("processing", 1), FakeProgress("processing-stopped", 2)]
    finals, _updates = run(workflow, service)
    assert ("cancel", 4) in queue.calls
    # printed: colour then mono page -> 0.20 + 0.05 + 2 sheets
    assert charges.calls[-1] == ("capture", "hold-1", Decimal("0.27"), 2, 1)
    assert (finals[0].charged, finals[0].refunded) == (Decimal("0.27"), Decimal("0.27"))
    assert finals[0].problem == "job_processing_stopped"


def test_a_job_cancelled_before_printing_voids_the_hold() -> None:
    workflow, service, queue, charges = setup()
    queue.script[4] = [FakeProgress("canceled", 0)]
    finals, _updates = run(workflow, service)
    assert [c[0] for c in charges.calls] == ["authorise", "void"]
    assert (finals[0].charged, finals[0].refunded) == (Decimal("0.00"), Decimal("0.54"))
    assert charges.holds == {} and charges.available == Decimal("10.00")


def test_the_snmp_counter_delta_is_what_is_charged_capped_at_the_estimate() -> None:
    monitor = FakeMonitor(start=5000, increments=[0, 3])
    workflow, service, queue, charges = setup(monitor=monitor)
    queue.script[4] = [FakeProgress("aborted", 4)]  # the server claims 4, the printer 3
    finals, _updates = run(workflow, service)
    assert charges.calls[-1][2:] == (Decimal("0.33"), 3, 1)  # c m m + 3 sheets
    assert monitor.reads == [5000, 5003] and finals[0].problem == "job_aborted"
    monitor = FakeMonitor(start=5000, increments=[0, 40])  # copies made meanwhile
    workflow, service, queue, charges = setup(monitor=monitor)
    finals, _updates = run(workflow, service)
    assert charges.calls[-1][2] == Decimal("0.54")


def test_a_completed_job_whose_printer_reports_no_impressions_is_charged_in_full() -> None:
    workflow, service, _queue, charges = setup()
    run(workflow, service)
    assert charges.calls[-1][2] == Decimal("0.54")


def test_a_stopped_printer_is_refused_before_any_hold_and_the_job_stays_held() -> None:
    workflow, service, queue, charges = setup(
        FakeHeldJob(4, "report.pdf"), FakeHeldJob(5, "second.pdf"))
    queue.problem = "printer_jammed"
    finals, _updates = run(workflow, service)
    assert [(f.stage, f.problem) for f in finals] == [(Stage.REFUSED, "printer_jammed")] * 2
    assert charges.calls == [] and set(queue.jobs) == {4, 5}
    monitor = FakeMonitor()
    monitor.problem = "toner_empty"
    workflow, service, queue, charges = setup(monitor=monitor)
    finals, _updates = run(workflow, service)
    assert finals[0].problem == "toner_empty" and charges.calls == []


def test_insufficient_credit_says_what_is_missing_and_stops_the_batch() -> None:
    workflow, service, queue, _ledger = setup(
        FakeHeldJob(4, "report.pdf"), FakeHeldJob(5, "second.pdf"), available="0.80")
    queue.script[4] = [FakeProgress("completed", 4)]
    finals, _updates = run(workflow, service)
    assert finals[0].stage is Stage.CHARGED
    assert finals[1].stage is Stage.INSUFFICIENT
    assert finals[1].missing == Decimal("0.28")  # 0.54 - (0.80 - 0.54)
    assert 5 in queue.jobs


def test_a_release_failure_at_the_print_server_voids_the_hold() -> None:
    workflow, service, queue, charges = setup()
    queue.fail_release = True
    finals, _updates = run(workflow, service)
    assert [c[0] for c in charges.calls] == ["authorise", "void"]
    assert finals[0].stage is Stage.FAILED and finals[0].problem == "release_failed"


def test_a_capture_waiting_in_the_outbox_shows_the_projected_balance() -> None:
    workflow, service, _queue, charges = setup()
    charges.offline = True
    finals, _updates = run(workflow, service)
    balance = finals[0].balance
    assert finals[0].stage is Stage.CHARGED and balance is not None
    # hold of 0.54 made against 10.00, all of it captured: nothing held, 9.46 available
    assert (balance.held, balance.available) == (Decimal("0.00"), Decimal("9.46"))


def test_an_offline_refusal_stops_the_batch_with_its_code() -> None:
    workflow, service, queue, charges = setup(
        FakeHeldJob(4, "report.pdf"), FakeHeldJob(5, "second.pdf"))

    def refuse(*_args: object) -> object:
        raise BackendRejected("offline_limit_reached")

    charges.authorise = refuse  # type: ignore[method-assign]
    finals, _updates = run(workflow, service)
    assert [(f.stage, f.problem) for f in finals] == [(Stage.REFUSED, "offline_limit_reached")] * 2
    assert set(queue.jobs) == {4, 5}


def test_a_printer_that_fails_between_check_and_release_voids_the_hold() -> None:
    workflow, service, queue, charges = setup()

    def refuse(job_id: int) -> None:
        raise PrinterRefused("printer_jammed")

    queue.release = refuse  # type: ignore[method-assign]
    finals, _updates = run(workflow, service)
    assert [c[0] for c in charges.calls] == ["authorise", "void"]
    assert (finals[0].stage, finals[0].problem) == (Stage.REFUSED, "printer_jammed")
    assert 4 in queue.jobs


def test_a_print_server_lost_mid_job_settles_the_hold_on_what_it_last_reported() -> None:
    workflow, service, queue, charges = setup()
    clock = iter(range(0, 10_000, 100))
    workflow.clock = lambda: float(next(clock))
    workflow.follow_timeout_s = 1000
    queue.script[4] = [FakeProgress("processing", 3)]
    seen: list[int] = []

    def vanishing(job_id: int) -> FakeProgress:
        seen.append(job_id)
        if len(seen) > 1:
            raise ConnectionError("cupsd went away")
        return queue.script[4][0]

    queue.progress = vanishing  # type: ignore[method-assign]
    finals, _updates = run(workflow, service)
    assert charges.calls[-1] == ("capture", "hold-1", Decimal("0.33"), 3, 1)  # c m m
    assert finals[0].stage is Stage.CHARGED and finals[0].problem == "job_not_followed"
    assert charges.holds == {}


def test_holds_left_open_by_a_stopped_kiosk_are_settled_only_when_certain() -> None:
    workflow, _service, queue, charges = setup()
    for job_ref in ("cups-1", "cups-2", "cups-3", "cups-4", "cups-5", "other-6"):
        charges.authorise("alice", Decimal("0.54"), "report.pdf, 4 impressions", job_ref)
    queue.script.update({
        1: [FakeProgress("pending-held", 0)],   # never released: void
        2: [FakeProgress("completed", 4)],      # printed: charge the hold
        3: [FakeProgress("canceled", 0)],       # cancelled before printing: void
        4: [FakeProgress("aborted", 2)],        # partial: left for the operator
        5: [FakeProgress("pending", 0)],        # released, queued: may still print
    })
    settled = workflow.recover(charges.unsettled())
    assert settled == ["hold-1", "hold-2", "hold-3"]
    assert [c[0:2] for c in charges.calls if c[0] != "authorise"] == [
        ("void", "hold-1"), ("capture", "hold-2"), ("void", "hold-3")]
    assert charges.calls[-2][2] == Decimal("0.54")
    assert sorted(charges.holds) == ["hold-4", "hold-5", "hold-6"]
