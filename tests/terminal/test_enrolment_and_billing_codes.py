"""Card self-enrolment in the session and billing codes on the money path.

The session and the charge book run over the in-memory fakes; the HTTP client's new
calls run against the real backend process (its own, with billing codes imported by the
administrator's command).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from backend_process import BackendProcess
from billing_code_seed import import_billing_codes
from test_release import setup

from terminal.backend_client import HttpBackend
from terminal.charges import ChargeBook
from terminal.config import ConfigError, parse_kiosk_config
from terminal.fakes import (
    FakeBackend,
    FakeHeldJob,
    FakeLedger,
    FakeProgress,
    InlineExecutor,
    ManualClock,
)
from terminal.offline import OfflineCache, OfflinePolicy
from terminal.outbox import Outbox
from terminal.ports import BackendRejected, Balance, BillingCode, Identity
from terminal.session import SessionController, SessionState, mask_card

TOKEN = "demo-terminal-token"
BOB = Identity("bob", "Bob Dupont", "en",
               Balance("EUR", Decimal("2.00"), Decimal("0"), Decimal("0"), Decimal("2.00")))
CARD = "04A1B2C3D4"


def controller(backend: FakeBackend, clock: ManualClock) -> SessionController:
    return SessionController(backend, InlineExecutor(), clock, idle_timeout_s=60, warning_s=10)


# --- card self-enrolment in the session --------------------------------------------------

def test_unknown_card_is_offered_for_enrolment_masked_never_in_full() -> None:
    session = controller(FakeBackend(pins={("bob", "2345"): BOB}), ManualClock())
    session.present_card(CARD)
    view = session.view
    assert (view.state, view.error, view.enrol_card_hint) == (
        SessionState.IDLE, "card_unknown", "•••• D4")
    assert CARD not in repr(view)


def test_wrong_pin_keeps_the_card_unknown_right_pin_links_it_and_logs_in() -> None:
    backend = FakeBackend(pins={("bob", "2345"): BOB})
    session = controller(backend, ManualClock())
    session.present_card(CARD)
    session.enrol_card("bob", "0000")
    assert (session.view.state, session.view.error) == (SessionState.IDLE, "pin_invalid")
    assert session.view.enrol_card_hint == "•••• D4"  # may try again
    assert CARD not in backend.cards
    session.enrol_card(" bob ", "2345")
    assert session.view.state is SessionState.IDENTIFIED and session.view.identity == BOB
    assert backend.calls[-1] == ("enrol_card", CARD, "bob")
    session.logout()
    session.enrol_card("bob", "2345")  # the card was forgotten with the enrolment
    assert session.view.state is SessionState.IDLE
    session.present_card(CARD)
    assert session.view.identity == BOB
    assert [call[0] for call in backend.calls].count("enrol_card") == 2


def test_the_unknown_card_is_forgotten_on_cancel_another_card_or_the_idle_timeout() -> None:
    clock = ManualClock()
    backend = FakeBackend(pins={("bob", "2345"): BOB})
    session = controller(backend, clock)
    session.present_card(CARD)
    session.cancel_enrolment()
    assert session.view.enrol_card_hint is None and session.view.error is None
    session.present_card(CARD)
    session.present_card("77")
    assert session.view.enrol_card_hint == "••••"  # the second card, too short to show
    session.enrol_card("bob", "2345")
    assert backend.calls[-1] == ("enrol_card", "77", "bob")
    session.logout()
    session.present_card(CARD)
    clock.advance(59)
    session.tick()
    assert session.view.enrol_card_hint is not None
    clock.advance(2)
    session.tick()
    assert session.view.enrol_card_hint is None
    session.enrol_card("bob", "2345")
    assert session.view.state is SessionState.IDLE and CARD not in backend.cards


def test_a_card_of_another_user_is_not_offered_again() -> None:
    backend = FakeBackend(pins={("bob", "2345"): BOB})
    session = controller(backend, ManualClock())
    session.present_card(CARD)
    backend.cards[CARD] = Identity("alice", "Alice", "fr", BOB.balance)  # enrolled meanwhile
    session.enrol_card("bob", "2345")
    assert session.view.error == "card_already_enrolled"
    assert session.view.enrol_card_hint is None


def test_mask_shows_at_most_two_characters_of_a_long_number() -> None:
    assert mask_card("123456") == "•••• 56"
    assert mask_card("12345") == "••••"


# --- the billing code on the money path --------------------------------------------------

def test_the_code_is_journalled_with_the_hold_and_sent_even_after_an_outage(
    tmp_path: Path,
) -> None:
    ledger = FakeLedger({"bob": Decimal("2.00")})
    cache = OfflineCache(tmp_path / "offline.sqlite3", b"k" * 32, max_age_s=3600)
    cache.remember(CARD, BOB)
    book = ChargeBook(Outbox(tmp_path / "outbox.sqlite3"), ledger,
                      OfflinePolicy(True, Decimal("5.00")), cache)
    book.authorise("bob", Decimal("0.50"), "a.pdf", "cups-1", "ACME-WEB")
    ledger.down = True
    offline = book.authorise("bob", Decimal("0.40"), "b.pdf", "cups-2", "ACME-PRINT")
    assert offline.offline
    book.authorise("bob", Decimal("0.30"), "c.pdf", "cups-3")
    ledger.down = False
    assert not book.drain().remaining
    assert {h.job_ref: h.billing_code for h in ledger.holds.values()} == {
        "cups-1": "ACME-WEB", "cups-2": "ACME-PRINT", "cups-3": None}


def test_release_passes_the_picked_code_with_every_job() -> None:
    workflow, service, queue, charges = setup(FakeHeldJob(4, "a.pdf"), FakeHeldJob(5, "b.pdf"))
    for job_id in (4, 5):
        queue.script[job_id] = [FakeProgress("completed", 4)]
    jobs = service.list_jobs("alice").jobs
    workflow.release("alice", jobs[:1], lambda _update: None, "LAB-42")
    workflow.release("alice", jobs[1:], lambda _update: None)  # without a code: none sent
    assert charges.billing_codes == ["LAB-42", None]


def test_billing_code_setting_defaults_to_off_and_refuses_other_words() -> None:
    base = {"terminal": {"name": "k"}, "backend": {"url": "http://127.0.0.1:1"},
            "printer": {"name": "p"}}
    assert parse_kiosk_config(base, "k.toml").terminal.billing_code == "off"
    base["terminal"]["billing_code"] = "required"  # type: ignore[index]
    assert parse_kiosk_config(base, "k.toml").terminal.billing_code == "required"
    base["terminal"]["billing_code"] = "always"  # type: ignore[index]
    with pytest.raises(ConfigError) as refused:
        parse_kiosk_config(base, "k.toml")
    assert "terminal.billing_code" in str(refused.value) and "always" in str(refused.value)


# --- the HTTP client against the real backend --------------------------------------------

@pytest.fixture
def coded_backend(backend_process: BackendProcess) -> Iterator[HttpBackend]:
    import_billing_codes(backend_process.data_dir)
    client = HttpBackend(backend_process.url, TOKEN)
    yield client
    client.close()


def test_search_recent_and_a_hold_charged_to_a_code(
    coded_backend: HttpBackend, backend_process: BackendProcess
) -> None:
    client = coded_backend
    client.identify_card("1003")  # carol and bob badge: their sessions carry the calls
    client.identify_card("1002")
    # the demo's client ACME pays for its codes: the project inherits it
    web = BillingCode("ACME-WEB", "Website redesign", "ACME", "ACME Corp", payer="code")
    assert client.search_billing_codes("carol", "acme-w") == [web]
    [globex] = client.search_billing_codes("carol", "globex-a")
    assert globex.payer == "user"
    assert web.path == ("ACME Corp", "Website redesign")
    assert [c.code for c in client.search_billing_codes("carol", "")] == [
        "ACME", "ACME-PRINT", "ACME-WEB", "GLOBEX-AUDIT"]
    assert [c.code for c in client.search_billing_codes("carol", "ann")] == ["GLOBEX-AUDIT"]
    assert [c.code for c in client.search_billing_codes("bob", "")] == ["ACME-WEB"]
    assert client.recent_billing_codes("carol") == []
    hold = client.hold(uuid.uuid4().hex, "carol", Decimal("0.20"), "t", "bc-1", "ACME-WEB",
                       client.session_of("carol"))
    client.capture(uuid.uuid4().hex, hold.hold_id, Decimal("0.20"), 2, 0)
    assert client.recent_billing_codes("carol") == [web]
    with pytest.raises(BackendRejected) as refused:
        client.hold(uuid.uuid4().hex, "bob", Decimal("0.20"), "t", "bc-2", "GLOBEX-AUDIT",
                    client.session_of("bob"))
    assert refused.value.code == "billing_code_unknown"
    with pytest.raises(BackendRejected) as unknown:
        client.recent_billing_codes("nobody")
    # nobody's session was never opened here: refused without saying whether they exist
    assert unknown.value.code == "session_required"


def test_enrol_card_wrong_pin_then_right_pin_then_the_card_identifies(
    coded_backend: HttpBackend,
) -> None:
    client = coded_backend
    card = "99" + uuid.uuid4().hex[:8]
    with pytest.raises(BackendRejected) as wrong:
        client.enrol_card(card, "bob", "0000")
    assert (wrong.value.code, wrong.value.status) == ("pin_invalid", 401)
    with pytest.raises(BackendRejected) as still_unknown:
        client.identify_card(card)
    assert still_unknown.value.code == "card_unknown"
    assert client.enrol_card(card, "bob", "2345").username == "bob"
    assert client.identify_card(card).display_name == "Bob Dupont"
    with pytest.raises(BackendRejected) as taken:
        client.enrol_card(card, "alice", "1234")
    assert taken.value.code == "card_already_enrolled"
