"""Technician mode through the session controller: a technician card or PIN (an account
with the technician role), the local PIN offline fallback with its lockout, the idle
timeout, and job listing / release refused for a technician session."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from terminal.fakes import (
    FakeBackend,
    FakeCharges,
    FakeHeldJob,
    FakeHoldQueue,
    FakePricer,
    InlineExecutor,
    ManualClock,
    document,
)
from terminal.jobs import JobService, TechnicianSession
from terminal.offline import OfflineCache
from terminal.ports import BackendUnavailable, Balance, Identity
from terminal.release import ReleaseWorkflow
from terminal.session import SessionController, SessionState, SessionView
from terminal.technician_pin import LocalPin, write_pin_file
from terminal.technician_types import LOCAL_TECHNICIAN, TECHNICIAN_ROLE, Technician

NO_CREDIT = Balance("EUR", Decimal("0"), Decimal("0"), Decimal("0"), Decimal("0"))
TESS = Identity("tess", "Tess Technician", "fr", NO_CREDIT, roles=(TECHNICIAN_ROLE,))
ALICE = Identity("alice", "Alice", "en", NO_CREDIT)


def controller(backend: FakeBackend, clock: ManualClock | None = None,
               local_pin: LocalPin | None = None,
               cache: OfflineCache | None = None) -> SessionController:
    return SessionController(backend, InlineExecutor(), clock or ManualClock(),
                             idle_timeout_s=60, warning_s=10, local_pin=local_pin,
                             offline_cache=cache)


def test_a_technician_card_opens_technician_mode_not_a_user_session() -> None:
    session = controller(FakeBackend(cards={"1009": TESS}))
    seen: list[SessionView] = []
    session.subscribe(seen.append)
    session.present_card("1009")
    assert [v.state for v in seen] == [SessionState.IDENTIFYING, SessionState.TECHNICIAN]
    view = session.view
    assert view.technician == Technician("tess", "Tess Technician", "card")
    assert view.identity is None and view.language == "fr"
    assert session.is_technician("tess") and not session.is_technician("alice")
    session.logout()
    assert session.view == SessionView(SessionState.IDLE)


def test_a_technician_pin_login_opens_technician_mode_via_pin() -> None:
    session = controller(FakeBackend(pins={("tess", "9012"): TESS, ("alice", "1"): ALICE}))
    session.login_with_pin("tess", "9012")
    assert session.view.state is SessionState.TECHNICIAN
    assert session.view.technician == Technician("tess", "Tess Technician", "pin")
    session.logout()
    session.login_with_pin("alice", "1")
    assert session.view.state is SessionState.IDENTIFIED  # an ordinary user is not one


def test_a_technician_card_is_not_remembered_for_offline_entry(tmp_path: Path) -> None:
    cache = OfflineCache(tmp_path / "offline.sqlite", b"k" * 32, max_age_s=3600)
    backend = FakeBackend(cards={"1009": TESS})
    session = controller(backend, cache=cache)
    session.present_card("1009")
    session.logout()
    backend.failure = BackendUnavailable("down")
    session.present_card("1009")
    assert session.view.state is SessionState.IDLE
    assert session.view.error == "offline_user_unknown"  # offline: the local PIN only


def test_the_local_pin_enters_offline_and_wrong_ones_lock(tmp_path: Path) -> None:
    pin_file = tmp_path / "technician-pin"
    write_pin_file(pin_file, "4711")
    session = controller(FakeBackend(failure=BackendUnavailable("down")),
                         local_pin=LocalPin(pin_file, tmp_path))
    session.enter_local_technician("4711")
    assert session.view.state is SessionState.TECHNICIAN
    assert session.view.technician == Technician(LOCAL_TECHNICIAN, "Local technician",
                                                 "local_pin")
    session.logout()
    errors = []
    for _ in range(5):
        session.enter_local_technician("0000")
        errors.append(session.view.error)
    assert errors == ["pin_invalid"] * 4 + ["pin_locked"]
    session.enter_local_technician("4711")
    assert session.view.state is SessionState.IDLE and session.view.error == "pin_locked"


def test_no_local_pin_is_an_answer() -> None:
    session = controller(FakeBackend())
    session.enter_local_technician("1234")
    assert session.view.state is SessionState.IDLE and session.view.error == "no_local_pin"


def test_a_technician_session_times_out_like_a_user_session() -> None:
    clock = ManualClock()
    session = controller(FakeBackend(cards={"1009": TESS}), clock)
    session.present_card("1009")
    clock.advance(51)
    session.tick()
    assert session.view.state is SessionState.TECHNICIAN and session.view.seconds_left == 9
    session.touch()
    assert session.view.seconds_left is None
    clock.advance(61)
    session.tick()
    assert session.view.state is SessionState.IDLE and session.view.technician is None


def test_a_restarted_core_takes_the_technician_over_with_the_idle_timeout() -> None:
    """After a change is applied the new core's controller starts idle; resuming the
    technician there keeps technician mode, and its idle timeout still ends it."""
    clock = ManualClock()
    session = controller(FakeBackend(), clock)
    tess = Technician("tess", "Tess Technician", "card")
    session.resume_technician(tess)
    assert session.view.state is SessionState.TECHNICIAN and session.view.technician == tess
    assert session.is_technician("tess")
    clock.advance(61)
    session.tick()
    assert session.view.state is SessionState.IDLE and session.view.technician is None


def test_jobs_and_release_are_refused_for_a_technician_session() -> None:
    session = controller(FakeBackend(cards={"1009": TESS}))
    queue = FakeHoldQueue([FakeHeldJob(1, "report.pdf", "tess")])
    jobs = JobService(queue, FakePricer(), lambda path, pages: document("m"),
                      technician=session.is_technician)
    charges = FakeCharges()
    release = ReleaseWorkflow(jobs, queue, charges, lambda user: NO_CREDIT)
    assert len(jobs.list_jobs("tess").jobs) == 1  # not in technician mode yet
    quote = jobs.list_jobs("tess").jobs[0]
    queue.calls.clear()
    session.present_card("1009")
    with pytest.raises(TechnicianSession):
        jobs.list_jobs("tess")
    with pytest.raises(TechnicianSession):
        release.release("tess", [quote], lambda update: None)
    assert queue.calls == [] and charges.calls == []
