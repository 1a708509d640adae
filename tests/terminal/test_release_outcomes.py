"""Every job of a batch gets its own outcome, named by a key of terminal.outcomes, with
what happened to its money: charged, partly charged, voided, never held or unsettled."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_release import run, setup

from analysis import ImpressionColour
from drivers.cups import problem_of
from drivers.cups.printer_state import _BLOCKING_REASONS
from terminal.adapters import _BLOCKING_ERRORS
from terminal.fakes import FakeHeldJob, FakeProgress, later
from terminal.outcomes import OUTCOMES, Kind, Settlement, Stage, UnknownOutcome
from terminal.ports import BackendRejected, BackendUnavailable
from terminal.release import ReleaseUpdate


def _jobs(count: int) -> list[FakeHeldJob]:
    return [FakeHeldJob(4 + n, f"job{n}.pdf", submitted_at=later(n)) for n in range(count)]


def test_one_refused_hold_never_stops_the_rest_of_the_batch() -> None:
    workflow, service, _queue, charges = setup(*_jobs(8))
    charges.refuse_jobs["cups-4"] = BackendRejected("amount_invalid", status=422)
    finals, _updates = run(workflow, service)
    assert [(f.job_id, f.stage) for f in finals] == [(4, Stage.REFUSED)] + [
        (job_id, Stage.CHARGED) for job_id in range(5, 12)]
    assert finals[0].problem == "amount_invalid" and finals[0].settlement is Settlement.NONE
    assert len([c for c in charges.calls if c[0] == "capture"]) == 7


def test_a_printer_problem_is_checked_again_for_every_job() -> None:
    workflow, service, queue, charges = setup(*_jobs(3))
    problems = iter(["printer_jammed", None, "paper_empty"])
    queue.printer_problem = lambda: next(problems)  # type: ignore[method-assign]
    finals, _updates = run(workflow, service)
    assert [(f.stage, f.problem) for f in finals] == [
        (Stage.REFUSED, "printer_jammed"), (Stage.CHARGED, None),
        (Stage.REFUSED, "paper_empty")]
    assert [c[3] for c in charges.calls if c[0] == "authorise"] == ["cups-5"]
    assert set(queue.jobs) == {4, 6}  # refused jobs stay held


def test_a_job_that_costs_nothing_is_held_released_and_captured_like_any_other() -> None:
    workflow, service, _queue, charges = setup(
        FakeHeldJob(4, "thesis.pdf", colour=False), FakeHeldJob(5, "slides.pdf",
                                                                submitted_at=later(1)))
    pricer = service.pricer  # the FakePricer: it prices the listing and the release
    pricer.unit[ImpressionColour.MONO] = Decimal("0.00")  # type: ignore[attr-defined]
    pricer.sheet = Decimal("0.00")  # type: ignore[attr-defined]
    finals, _updates = run(workflow, service)
    assert [c[:3] for c in charges.calls] == [
        ("authorise", "alice", Decimal("0.00")), ("capture", "hold-1", Decimal("0.00")),
        ("authorise", "alice", Decimal("0.40")), ("capture", "hold-3", Decimal("0.40"))]
    free = finals[0]
    assert (free.stage, free.settlement, free.outcome) == (
        Stage.CHARGED, Settlement.CHARGED, "job_completed")
    assert (free.held, free.charged, free.refunded, free.impressions_done) == (
        Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), 4)


def test_an_unknown_printer_reason_or_backend_code_ends_on_a_registered_key() -> None:
    workflow, service, queue, charges = setup(*_jobs(2))
    problems = iter(["fuser_on_fire", None])
    queue.printer_problem = lambda: next(problems)  # type: ignore[method-assign]
    charges.refuse_jobs["cups-5"] = BackendRejected("quota_frozen_by_admin", status=403)
    finals, _updates = run(workflow, service)
    assert [(f.stage, f.problem) for f in finals] == [
        (Stage.REFUSED, "printer_error"), (Stage.REFUSED, "hold_refused")]


def test_a_void_is_never_presented_as_a_charge() -> None:
    workflow, service, queue, _charges = setup()
    queue.script[4] = [FakeProgress("processing", 0), FakeProgress("aborted", 0)]
    [final], _updates = run(workflow, service)
    assert (final.stage, final.settlement, final.outcome) == (
        Stage.VOIDED, Settlement.VOIDED, "job_aborted")
    assert (final.held, final.charged, final.refunded) == (
        Decimal("0.54"), Decimal("0.00"), Decimal("0.54"))


def test_a_jam_is_partly_charged_and_says_how_much_came_back() -> None:
    workflow, service, queue, _charges = setup()
    queue.script[4] = [FakeProgress("processing-stopped", 1)]
    [final], _updates = run(workflow, service)
    assert (final.stage, final.settlement, final.outcome) == (
        Stage.CHARGED, Settlement.PARTLY_CHARGED, "job_processing_stopped")
    assert final.charged is not None and final.refunded is not None
    assert final.charged + final.refunded == final.held == Decimal("0.54")
    assert final.impressions_done == 1


def test_a_stopped_job_that_cannot_be_cancelled_is_still_settled() -> None:
    workflow, service, queue, charges = setup()
    queue.script[4] = [FakeProgress("processing-stopped", 2)]
    queue.fail_cancel = True
    [final], _updates = run(workflow, service)
    assert ("cancel", 4) in queue.calls
    assert charges.calls[-1] == ("capture", "hold-1", Decimal("0.27"), 2, 1)
    assert charges.holds == {}
    assert (final.stage, final.outcome) == (Stage.CHARGED, "job_processing_stopped")


def test_a_refused_settlement_is_unsettled_not_charged() -> None:
    workflow, service, _queue, charges = setup()
    charges.refuse_settlements = BackendRejected("hold_settled", status=409)
    [final], _updates = run(workflow, service)
    assert (final.stage, final.settlement, final.outcome) == (
        Stage.FAILED, Settlement.UNSETTLED, "settlement_refused")
    assert final.charged is None and final.held == Decimal("0.54")


def test_an_unreachable_backend_fails_each_job_on_its_own() -> None:
    workflow, service, _queue, charges = setup(*_jobs(2))
    charges.refuse_jobs["cups-4"] = BackendUnavailable("timeout")
    finals, _updates = run(workflow, service)
    assert [(f.stage, f.outcome) for f in finals] == [
        (Stage.FAILED, "backend_unavailable"), (Stage.CHARGED, "job_completed")]


def test_every_final_update_is_a_registered_outcome_with_consistent_money() -> None:
    workflow, service, queue, charges = setup(*_jobs(7), available="1.80")
    queue.script.update({
        4: [FakeProgress("completed", 4)],
        5: [FakeProgress("processing-stopped", 2)],
        6: [FakeProgress("canceled", 0)],
        7: [FakeProgress("aborted", 3)],
    })
    charges.refuse_jobs["cups-8"] = BackendRejected("offline_limit_reached")
    finals, _updates = run(workflow, service)
    assert len({f.outcome for f in finals}) >= 6
    for final in finals:
        assert final.outcome in OUTCOMES
        if final.settlement is Settlement.NONE:
            assert final.held is None and not final.charged
        elif final.settlement is Settlement.VOIDED:
            assert (final.charged, final.refunded) == (Decimal("0.00"), final.held)
        elif final.settlement is Settlement.CHARGED:
            assert final.charged == final.held and final.refunded == Decimal("0.00")
        elif final.settlement is Settlement.PARTLY_CHARGED:
            assert final.refunded and final.charged is not None
            assert final.charged + final.refunded == final.held


def test_a_final_update_with_an_unregistered_key_or_a_wrong_settlement_is_refused() -> None:
    base = {"job_id": 1, "name": "x", "currency": "EUR", "estimate": Decimal("1.00")}
    with pytest.raises(UnknownOutcome, match="made_up"):
        ReleaseUpdate(stage=Stage.FAILED, problem="made_up", **base)  # type: ignore[arg-type]
    with pytest.raises(UnknownOutcome, match="job_completed"):
        ReleaseUpdate(stage=Stage.CHARGED, settlement=Settlement.VOIDED,
                      **base)  # type: ignore[arg-type]
    ReleaseUpdate(stage=Stage.PRINTING, problem=None, **base)  # type: ignore[arg-type]


def test_every_printer_reason_the_drivers_name_is_a_registered_refusal() -> None:
    reasons = {key for _keyword, key in _BLOCKING_REASONS} | set(_BLOCKING_ERRORS.values())
    reasons |= {problem_of("stopped", (), True), problem_of("idle", (), False),
                problem_of("idle", ("something-new-error",), True)}
    assert {OUTCOMES[reason].kind for reason in reasons} == {Kind.PRINTER_REFUSAL}


def test_the_registry_names_the_keys_the_issue_found_untold() -> None:
    for key in ("job_processing_stopped", "job_canceled", "job_aborted", "job_not_followed",
                "job_nothing_printed"):
        assert OUTCOMES[key].kind is Kind.ENDING and OUTCOMES[key].meaning


def test_a_job_whose_old_hold_a_restart_is_settling_is_not_released_again() -> None:
    workflow, service, queue, charges = setup()
    stale = charges.authorise("alice", Decimal("0.54"), "before the crash", "cups-4",
                              impressions=4)
    quotes = service.list_jobs("alice").jobs
    seen: list[list[ReleaseUpdate]] = []

    def release_meanwhile(job_id: int) -> FakeProgress:
        # the user releases the job while the restart is asking about it
        seen.append(workflow.release("alice", quotes, lambda _u: None))
        return FakeProgress("pending-held", 0)

    queue.progress = release_meanwhile  # type: ignore[method-assign]
    assert workflow.recover(charges.unsettled()) == [stale.key]
    [[refused]] = seen
    assert (refused.stage, refused.outcome) == (Stage.REFUSED, "job_recovering")
    assert ("release", 4) not in queue.calls and charges.holds == {}


def test_of_two_open_holds_for_one_job_a_restart_charges_only_the_later() -> None:
    """A hold left open (the print server could not say), then the job released again:
    the next restart sees the job completed, and must not charge it twice."""
    workflow, _service, queue, charges = setup()
    first = charges.authorise("alice", Decimal("0.54"), "first try", "cups-4", impressions=4)
    second = charges.authorise("alice", Decimal("0.54"), "second try", "cups-4", impressions=4)
    queue.script[4] = [FakeProgress("completed", 4)]
    assert workflow.recover(charges.unsettled()) == [first.key, second.key]
    assert [c[:3] for c in charges.calls if c[0] != "authorise"] == [
        ("void", first.key, "superseded by a later hold for the same job"),
        ("capture", second.key, Decimal("0.54"))]
