"""Pricing belongs to one session: another user's listing never re-prices a running
release, and the idle logout waits for the session's release to end.

Real price lists (config/pricelists), the real job service, release workflow and session
controller; the print server, the charge book and the backend's identification are the
in-memory fakes of the layer below.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from analysis import DocumentAnalysis
from billing import load_price_list
from terminal.fakes import (
    FakeBackend,
    FakeCharges,
    FakeHeldJob,
    FakeHoldQueue,
    FakePriceLists,
    FakeProgress,
    InlineExecutor,
    ManualClock,
    document,
)
from terminal.jobs import BillingPricer, JobService, UserPricer
from terminal.ports import Balance, Identity
from terminal.release import ReleaseUpdate, ReleaseWorkflow, Stage
from terminal.session import SessionController, SessionState, SessionView

REPO = Path(__file__).resolve().parents[2]
PRICELISTS = REPO / "config" / "pricelists"
CAMPUS = (PRICELISTS / "campus-default.toml").read_text(encoding="utf-8")  # colour 0.25
STAFF = (PRICELISTS / "staff.toml").read_text(encoding="utf-8")  # colour 0.15, mono 0.03
REPORT = document("c", "m", "m", "c")
BALANCE = Balance("EUR", Decimal("10.00"), Decimal("0.00"), Decimal("0.00"), Decimal("10.00"))


def analyse(_path: Path | None, _pages: int | None) -> DocumentAnalysis:
    return REPORT


def test_a_listing_for_the_next_user_does_not_reprice_a_running_capture() -> None:
    """Alice (staff list) releases; while her job prints, bob (campus list) is listed
    at the same kiosk; her job jams after 2 sides (1 colour, 1 mono): the capture is
    priced with her list (0.15 + 0.03), not bob's (0.25 + 0.00)."""
    queue = FakeHoldQueue([FakeHeldJob(4, "report.pdf"),
                           FakeHeldJob(5, "thesis.pdf", username="bob")])
    queue.script[4] = [FakeProgress("processing", 1), FakeProgress("processing", 1),
                       FakeProgress("processing-stopped", 2)]
    charges = FakeCharges("10.00")
    lists = FakePriceLists({"alice": (STAFF, None), "bob": (CAMPUS, (0, 0))})
    pricing = UserPricer(lists, BillingPricer(load_price_list(CAMPUS, "campus")))
    jobs = JobService(queue, pricing, analyse)
    listed_for_bob: list[Decimal] = []

    def meanwhile(_seconds: float) -> None:  # the release polls; the next user badges
        if not listed_for_bob:
            listed_for_bob.append(jobs.list_jobs("bob").total)

    workflow = ReleaseWorkflow(jobs, queue, charges, charges.balance, sleep=meanwhile)
    alice = jobs.list_jobs("alice")
    assert alice.total == Decimal("0.36")  # 2 x 0.15 + 2 x 0.03
    finals = workflow.release("alice", alice.jobs, lambda _update: None)
    assert listed_for_bob == [Decimal("0.50")]  # 2 x 0.25, mono free: bob's own list
    assert finals[0].stage is Stage.CHARGED
    assert charges.calls[-1] == ("capture", "hold-1", Decimal("0.18"), 2, 1)


ALICE = Identity("alice", "Alice Martin", "en", BALANCE)


def test_the_idle_logout_waits_while_the_sessions_release_runs() -> None:
    """The job prints for 5 minutes with no progress to report and nobody touches the
    screen (idle timeout 60 s): the session stays, without a countdown, until the
    release ends; the idle timeout then counts from the end of the release."""
    clock = ManualClock()
    session = SessionController(FakeBackend(cards={"1001": ALICE}), InlineExecutor(), clock,
                                idle_timeout_s=60, warning_s=10)
    session.present_card("1001")
    clock.advance(55)
    session.tick()
    assert session.view.seconds_left == 5  # the countdown had started: the release stops it
    views: list[SessionView] = []
    session.subscribe(views.append)
    queue = FakeHoldQueue([FakeHeldJob(4, "report.pdf")])
    queue.script[4] = [FakeProgress("processing", 1)] * 10 + [FakeProgress("completed", 4)]
    charges = FakeCharges("10.00")
    jobs = JobService(queue, BillingPricer(load_price_list(CAMPUS, "campus")), analyse)

    def printing(seconds: float) -> None:
        clock.advance(30)  # each poll of the print server, half a minute later
        session.tick()

    workflow = ReleaseWorkflow(jobs, queue, charges, charges.balance, sleep=printing,
                               running=session.release_running)
    updates: list[ReleaseUpdate] = []
    finals = workflow.release("alice", jobs.list_jobs("alice").jobs, updates.append)
    assert finals[0].stage is Stage.CHARGED
    assert [view.state for view in views] == [SessionState.IDENTIFIED]  # countdown cleared
    assert all(view.seconds_left is None for view in views)
    assert session.view.state is SessionState.IDENTIFIED
    clock.advance(49)
    session.tick()
    assert session.view.seconds_left is None
    clock.advance(2)
    session.tick()
    assert session.view.seconds_left == 9
    clock.advance(10)
    session.tick()
    assert session.view.state is SessionState.IDLE


def test_a_release_outliving_its_session_holds_nobody_elses() -> None:
    """Alice logs out while her job prints; bob's session times out as usual."""
    clock = ManualClock()
    bob = Identity("bob", "Bob", "en", BALANCE)
    session = SessionController(FakeBackend(cards={"1001": ALICE, "1002": bob}),
                                InlineExecutor(), clock, idle_timeout_s=60, warning_s=10)
    session.present_card("1001")
    finished = session.release_running("alice")
    session.logout()
    session.present_card("1002")
    session.release_running("alice")  # not bob's session's release: holds nothing
    clock.advance(61)
    session.tick()
    assert session.view.state is SessionState.IDLE
    finished()
    session.present_card("1002")
    clock.advance(61)
    session.tick()
    assert session.view.state is SessionState.IDLE
