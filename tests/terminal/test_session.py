"""The session state machine, driven through the in-memory fakes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from terminal.fakes import FakeBackend, InlineExecutor, ManualClock
from terminal.offline import OfflineCache
from terminal.ports import BackendUnavailable, Balance, Identity
from terminal.session import SessionController, SessionState, SessionView

ALICE = Identity(
    "alice",
    "Alice Martin",
    "fr",
    Balance("EUR", Decimal("10.00"), Decimal("5.00"), Decimal("0.00"), Decimal("15.00")),
)


def controller(backend: FakeBackend, clock: ManualClock | None = None) -> SessionController:
    return SessionController(
        backend, InlineExecutor(), clock or ManualClock(), idle_timeout_s=60, warning_s=10
    )


def test_card_identifies_user_and_logout_returns_to_idle() -> None:
    backend = FakeBackend(cards={"1001": ALICE})
    session = controller(backend)
    seen: list[SessionView] = []
    session.subscribe(seen.append)
    session.present_card(" 1001 ")
    assert [v.state for v in seen] == [SessionState.IDENTIFYING, SessionState.IDENTIFIED]
    assert session.view.identity == ALICE
    assert backend.calls == [("identify_card", "1001")]
    session.logout()
    assert session.view == SessionView(SessionState.IDLE)


def test_unknown_card_returns_to_idle_with_stable_error_code() -> None:
    session = controller(FakeBackend())
    session.present_card("9999")
    assert session.view.state is SessionState.IDLE
    assert session.view.error == "card_unknown"


def test_unreachable_backend_is_reported_not_raised() -> None:
    session = controller(FakeBackend(failure=BackendUnavailable("down")))
    session.present_card("1001")
    assert session.view.error == "backend_unavailable"


def test_pin_login() -> None:
    backend = FakeBackend(pins={("alice", "1234"): ALICE})
    session = controller(backend)
    session.login_with_pin("alice", "0000")
    assert session.view.error == "pin_invalid"
    session.login_with_pin("alice", "1234")
    assert session.view.identity == ALICE


def test_second_card_is_ignored_while_someone_is_identified() -> None:
    bob = Identity("bob", "Bob", "en", ALICE.balance)
    backend = FakeBackend(cards={"1001": ALICE, "1002": bob})
    session = controller(backend)
    session.present_card("1001")
    session.present_card("1002")
    assert session.view.identity == ALICE
    assert backend.calls == [("identify_card", "1001")]


def test_idle_timeout_counts_down_then_logs_out() -> None:
    clock = ManualClock()
    session = controller(FakeBackend(cards={"1001": ALICE}), clock)
    session.present_card("1001")
    clock.advance(49)
    session.tick()
    assert session.view.seconds_left is None
    clock.advance(3)
    session.tick()
    assert session.view.state is SessionState.IDENTIFIED
    assert session.view.seconds_left == 8
    session.touch()
    assert session.view.seconds_left is None
    clock.advance(59)
    session.tick()
    assert session.view.state is SessionState.IDENTIFIED
    clock.advance(1.5)
    session.tick()
    assert session.view == SessionView(SessionState.IDLE)


def test_answer_arriving_after_logout_is_dropped() -> None:
    """The next person must never see the previous person's account."""
    backend = FakeBackend(cards={"1001": ALICE})
    backend.gate = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        session = SessionController(backend, pool, ManualClock(), 60, 10)
        session.present_card("1001")
        assert session.view.state is SessionState.IDENTIFYING
        session.logout()
        backend.gate.set()
    assert session.view == SessionView(SessionState.IDLE)


@pytest.mark.parametrize("number", ["", "   "])
def test_blank_read_is_ignored(number: str) -> None:
    backend = FakeBackend()
    session = controller(backend)
    session.present_card(number)
    assert backend.calls == []
    assert session.view.state is SessionState.IDLE


def offline_cache(tmp_path: Path) -> OfflineCache:
    return OfflineCache(tmp_path / "offline.sqlite3", b"k" * 32, max_age_s=3600)


def test_offline_flag_reaches_every_view_until_the_backend_answers(tmp_path: Path) -> None:
    backend = FakeBackend(cards={"1001": ALICE})
    session = SessionController(backend, InlineExecutor(), ManualClock(), 60, 10,
                                offline_cache(tmp_path))
    seen: list[SessionView] = []
    session.subscribe(seen.append)
    session.set_offline(True)
    session.set_offline(True)  # no change, no notification
    assert [v.offline for v in seen] == [True]
    session.present_card("1001")  # the backend answers: online again
    assert session.view.state is SessionState.IDENTIFIED and not session.view.offline
    session.logout()
    assert session.view == SessionView(SessionState.IDLE)


def test_remembered_card_is_identified_offline_with_its_balance_age(tmp_path: Path) -> None:
    cache = offline_cache(tmp_path)
    backend = FakeBackend(cards={"1001": ALICE})
    session = SessionController(backend, InlineExecutor(), ManualClock(), 60, 10, cache)
    session.present_card("1001")
    session.logout()
    backend.failure = BackendUnavailable("down")
    session.present_card("1001")
    assert session.view.state is SessionState.IDENTIFIED
    assert session.view.identity == ALICE
    assert session.view.offline and session.view.balance_age_s is not None
    session.logout()
    assert session.view == SessionView(SessionState.IDLE, offline=True)
    session.present_card("2002")
    assert session.view == SessionView(SessionState.IDLE, error="offline_user_unknown",
                                       offline=True)
