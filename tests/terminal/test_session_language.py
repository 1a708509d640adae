"""The session's language: the user's profile language for each session, the kiosk's
default again after logout, and a switch at any time (issue 11, item 6)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from terminal.fakes import FakeBackend, InlineExecutor, ManualClock
from terminal.ports import Balance, Identity
from terminal.session import SessionController, SessionState

BALANCE = Balance("EUR", Decimal("1.00"), Decimal("0.00"), Decimal("0.00"), Decimal("1.00"))
ALICE = Identity("alice", "Alice Martin", "fr", BALANCE)
BOB = Identity("bob", "Bob Dupont", "en", BALANCE)
HANS = Identity("hans", "Hans Meier", "de", BALANCE)  # a language this kiosk has no text in


def controller(default: str = "en") -> tuple[SessionController, ManualClock]:
    clock = ManualClock()
    backend = FakeBackend(cards={"1001": ALICE, "1002": BOB, "1009": HANS})
    session = SessionController(backend, InlineExecutor(), clock, idle_timeout_s=60,
                                warning_s=10, default_language=default)
    return session, clock


def test_each_session_starts_in_the_users_profile_language() -> None:
    session, _clock = controller()
    assert session.view.language == "en"
    session.present_card("1001")
    assert session.view.language == "fr"
    session.logout()
    assert session.view.language == "en"
    session.present_card("1002")
    assert session.view.language == "en"


def test_a_language_tapped_on_the_idle_screen_does_not_stick_for_the_next_user() -> None:
    session, _clock = controller()
    session.set_language("fr")
    assert (session.view.state, session.view.language) == (SessionState.IDLE, "fr")
    session.present_card("1002")  # bob's profile says English
    assert session.view.language == "en"
    session.logout()
    session.present_card("1009")  # no text in German: the kiosk's default, not "fr"
    assert session.view.language == "en"


def test_the_user_switches_after_login_and_the_idle_screen_returns_to_the_default() -> None:
    session, clock = controller(default="fr")
    session.present_card("1002")
    assert session.view.language == "en"
    session.set_language("fr")
    assert (session.view.state, session.view.language) == (SessionState.IDENTIFIED, "fr")
    session.set_language("en")
    assert session.view.language == "en"
    clock.advance(61)
    session.tick()  # idle timeout: logged out
    assert (session.view.state, session.view.language) == (SessionState.IDLE, "fr")


def test_an_unsupported_language_is_refused_by_name() -> None:
    session, _clock = controller()
    with pytest.raises(ValueError, match=r"'de'.*en, fr"):
        session.set_language("de")
    with pytest.raises(ValueError, match="default language 'xx'"):
        SessionController(FakeBackend(), InlineExecutor(), ManualClock(), 60, 10,
                          default_language="xx")
