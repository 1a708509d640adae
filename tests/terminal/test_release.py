"""The release workflow through in-memory fakes: hold, print, follow, capture, refuse."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from analysis import DocumentAnalysis
from terminal.fakes import (
    FakeCharges,
    FakeHeldJob,
    FakeHoldQueue,
    FakePageCounter,
    FakePricer,
    FakeProgress,
    document,
    later,
)
from terminal.jobs import JobService
from terminal.ports import BackendRejected, PrinterRefused, PrintServerError
from terminal.release import ReleaseUpdate, ReleaseWorkflow, Settlement, Stage

REPORT = document("c", "m", "m", "c")  # 0.54 one-sided in colour


def analyse(_path: Path | None, _pages: int | None) -> DocumentAnalysis:
    return REPORT


def setup(
    *jobs: FakeHeldJob, available: str = "10.00", monitor: FakePageCounter | None = None
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
    # a void is not a charge: the final says so, and why
    assert (finals[0].stage, finals[0].settlement) == (Stage.VOIDED, Settlement.VOIDED)
    assert finals[0].outcome == "job_canceled"


def test_the_snmp_counter_delta_is_what_is_charged_capped_at_the_estimate() -> None:
    monitor = FakePageCounter(start=5000, increments=[0, 3])
    workflow, service, queue, charges = setup(monitor=monitor)
    queue.script[4] = [FakeProgress("aborted", 4)]  # the server claims 4, the printer 3
    finals, _updates = run(workflow, service)
    assert charges.calls[-1][2:] == (Decimal("0.33"), 3, 1)  # c m m + 3 sheets
    assert monitor.reads == [5000, 5003] and finals[0].problem == "job_aborted"
    monitor = FakePageCounter(start=5000, increments=[0, 40])  # copies made meanwhile
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
    monitor = FakePageCounter()
    monitor.problem = "toner_empty"
    workflow, service, queue, charges = setup(monitor=monitor)
    finals, _updates = run(workflow, service)
    assert finals[0].problem == "toner_empty" and charges.calls == []


def test_insufficient_credit_says_what_is_missing_and_the_next_job_is_still_tried() -> None:
    workflow, service, queue, charges = setup(
        FakeHeldJob(4, "report.pdf"), FakeHeldJob(5, "second.pdf"),
        FakeHeldJob(6, "third.pdf", colour=False, submitted_at=later(1)), available="0.80")
    queue.script[4] = [FakeProgress("completed", 4)]
    finals, _updates = run(workflow, service)
    assert finals[0].stage is Stage.CHARGED
    assert finals[1].stage is Stage.INSUFFICIENT
    assert finals[1].missing == Decimal("0.28")  # 0.54 - (0.80 - 0.54)
    assert 5 in queue.jobs
    # the mono job (0.24) still fits the 0.26 left: it prints
    assert finals[2].stage is Stage.CHARGED and finals[2].charged == Decimal("0.24")
    assert [c[3] for c in charges.calls if c[0] == "authorise"] == ["cups-4", "cups-5",
                                                                      "cups-6"]


def test_a_release_failure_at_the_print_server_voids_the_hold() -> None:
    workflow, service, queue, charges = setup()
    queue.fail_release = True
    finals, _updates = run(workflow, service)
    assert [c[0] for c in charges.calls] == ["authorise", "void"]
    assert finals[0].stage is Stage.VOIDED and finals[0].problem == "release_failed"
    assert finals[0].settlement is Settlement.VOIDED and 4 in queue.jobs


def test_a_capture_waiting_in_the_outbox_shows_the_projected_balance() -> None:
    workflow, service, _queue, charges = setup()
    charges.offline = True
    finals, _updates = run(workflow, service)
    balance = finals[0].balance
    assert finals[0].stage is Stage.CHARGED and balance is not None
    # hold of 0.54 made against 10.00, all of it captured: nothing held, 9.46 available
    assert (balance.held, balance.available) == (Decimal("0.00"), Decimal("9.46"))


def test_an_offline_refusal_is_given_to_every_job_that_asks() -> None:
    workflow, service, queue, charges = setup(
        FakeHeldJob(4, "report.pdf"), FakeHeldJob(5, "second.pdf"))

    def refuse(*_args: object) -> object:
        raise BackendRejected("offline_limit_reached")

    charges.authorise = refuse  # type: ignore[method-assign]
    finals, _updates = run(workflow, service)
    assert [(f.stage, f.problem) for f in finals] == [(Stage.REFUSED, "offline_limit_reached")] * 2
    assert [f.settlement for f in finals] == [Settlement.NONE] * 2
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
            raise PrintServerError("cupsd went away")
        return queue.script[4][0]

    queue.progress = vanishing  # type: ignore[method-assign]
    finals, _updates = run(workflow, service)
    assert charges.calls[-1] == ("capture", "hold-1", Decimal("0.33"), 3, 1)  # c m m
    assert finals[0].stage is Stage.CHARGED and finals[0].problem == "job_not_followed"
    assert charges.holds == {}


def test_a_restart_settles_every_hold_whose_jobs_fate_the_print_server_knows() -> None:
    workflow, _service, queue, charges = setup()
    workflow.sleep = lambda _s: None
    for job_ref in ("cups-1", "cups-2", "cups-3", "cups-4", "cups-5", "cups-7"):
        charges.authorise("alice", Decimal("0.54"), "report.pdf, 4 impressions", job_ref,
                          impressions=4)
    charges.authorise("alice", Decimal("0.54"), "old journal", "cups-8")  # no impressions
    charges.authorise("alice", Decimal("0.54"), "not a print job", "other-6", impressions=4)
    queue.script.update({
        1: [FakeProgress("pending-held", 0)],        # never released: void
        2: [FakeProgress("completed", 4)],           # printed: charge the hold
        3: [FakeProgress("canceled", 0)],            # cancelled before printing: void
        4: [FakeProgress("aborted", 2)],             # half printed: half the hold
        5: [FakeProgress("pending", 0), FakeProgress("processing", 2),
            FakeProgress("completed", 4)],           # still printing: followed, then charged
        7: [FakeProgress("processing-stopped", 1)],  # jammed: cancelled, a quarter charged
        8: [FakeProgress("aborted", 2)],             # partial, nothing to price it by
    })
    settled = workflow.recover(charges.unsettled())
    assert settled == ["hold-1", "hold-2", "hold-3", "hold-4", "hold-6", "hold-5"]
    assert [c[0:3] for c in charges.calls if c[0] != "authorise"] == [
        ("void", "hold-1", "kiosk restarted; job never released"),
        ("capture", "hold-2", Decimal("0.54")),
        ("void", "hold-3", "kiosk restarted; job canceled, nothing printed"),
        ("capture", "hold-4", Decimal("0.27")),
        ("capture", "hold-6", Decimal("0.14")),  # 0.135 rounded half-up
        ("capture", "hold-5", Decimal("0.54")),
    ]
    assert ("cancel", 7) in queue.calls and ("cancel", 5) not in queue.calls
    assert sorted(charges.holds) == ["hold-7", "hold-8"]  # cups-8 and other-6 stay open


def test_a_restart_leaves_open_only_what_the_print_server_cannot_tell() -> None:
    workflow, _service, queue, charges = setup()
    charges.authorise("alice", Decimal("0.54"), "gone", "cups-9", impressions=4)
    charges.authorise("alice", Decimal("0.54"), "stopped", "cups-10", impressions=4)

    def unknown(job_id: int) -> FakeProgress:
        if job_id == 9:
            raise PrintServerError("job 9 not found")
        return FakeProgress("processing-stopped", 2)

    queue.progress = unknown  # type: ignore[method-assign]
    queue.fail_cancel = True  # the stopped job cannot be cancelled: still settled
    assert workflow.recover(charges.unsettled()) == ["hold-2"]
    assert charges.calls[-1] == ("capture", "hold-2", Decimal("0.27"), 2, 0)
    assert list(charges.holds) == ["hold-1"]
