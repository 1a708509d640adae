"""The terminal against a real backend process that is stopped, killed and restarted.

Each test has a backend of its own (``backend_process``), so it can take it away at
will; the ledger is then read back from the backend's database.
"""

from __future__ import annotations

import random
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from backend_process import BackendProcess

from terminal.backend_client import HttpBackend
from terminal.charges import ChargeBook
from terminal.fakes import FakeAlert, FakePrinterMonitor, FakeSupply, InlineExecutor, ManualClock
from terminal.offline import (
    OFFLINE_LIMIT_REACHED,
    OFFLINE_PIN_UNAVAILABLE,
    OFFLINE_USER_UNKNOWN,
    OfflineCache,
    OfflinePolicy,
    OfflineRefused,
)
from terminal.outbox import Outbox
from terminal.reporting import Reporter, ReportSchedule
from terminal.session import SessionController, SessionState

TOKEN = "demo-terminal-token"
MARGIN = Decimal("0.05")


def client(url: str) -> HttpBackend:
    return HttpBackend(url, TOKEN, connect_timeout_s=0.5, read_timeout_s=5.0, retries=1,
                       backoff_s=0.05)


def offline_cache(state: Path) -> OfflineCache:
    return OfflineCache(state / "offline.sqlite3", b"k" * 32, max_age_s=3600)


def book_for(url: str, state: Path, limit: str) -> tuple[ChargeBook, OfflineCache]:
    cache = offline_cache(state)
    book = ChargeBook(Outbox(state / "outbox.sqlite3"), client(url),
                      OfflinePolicy(enabled=True, spending_limit=Decimal(limit)), cache)
    return book, cache


def drain_until_empty(book: ChargeBook) -> None:
    for _ in range(50):
        if not book.drain().remaining:
            return
    raise AssertionError(f"the outbox did not drain: {book.outbox.counts()}")


def price(index: int) -> Decimal:
    return Decimal("0.01") * (1 + index % 4)


def test_flapping_backend_ends_with_exactly_the_expected_charges(
    backend_process: BackendProcess, tmp_path: Path
) -> None:
    book, cache = book_for(backend_process.url, tmp_path, "5.00")
    backend = client(backend_process.url)
    cache.remember("1003", backend.identify_card("1003"))
    flaps = 0
    stop = threading.Event()
    chance = random.Random(7)

    def flap() -> None:
        nonlocal flaps
        while not stop.wait(chance.uniform(0.1, 0.5)):
            backend_process.stop(kill=chance.random() < 0.5)  # SIGKILL: mid-request too
            stop.wait(chance.uniform(0.1, 0.5))
            backend_process.start()
            flaps += 1

    flapper = threading.Thread(target=flap)
    flapper.start()
    charged: dict[str, Decimal] = {}
    refused: list[str] = []
    offline_seen = online_seen = 0
    index = 0
    try:
        while flaps < 4 or offline_seen == 0 or online_seen == 0:
            ref = f"flap-{index}"
            try:
                authorisation = book.authorise("carol", price(index) + MARGIN, "job", ref)
            except OfflineRefused:
                refused.append(ref)
            else:
                offline_seen += authorisation.offline
                online_seen += not authorisation.offline
                book.capture(authorisation.key, price(index), pages=1, colour_pages=0)
                charged[ref] = price(index)
            index += 1
            stop.wait(0.02)
    finally:
        stop.set()
        flapper.join()
    if not backend_process.running:
        backend_process.start()
    drain_until_empty(book)

    holds = backend_process.holds()
    captured = {hold.job_ref: hold.captured for hold in holds if hold.status == "captured"}
    assert captured == charged
    assert [hold for hold in holds if hold.status == "open"] == []
    assert {hold.job_ref for hold in holds if hold.status == "voided"} <= set(refused)
    assert backend_process.charge_count() == len(charged)
    balance = backend.balance("carol")
    assert balance.held == Decimal("0.00")
    assert balance.available == Decimal("70.00") - sum(charged.values(), Decimal(0))


def session_for(url: str, cache: OfflineCache) -> SessionController:
    return SessionController(client(url), InlineExecutor(), ManualClock(), 60, 10, cache)


def test_unknown_user_is_refused_offline_and_a_known_one_is_let_in(
    backend_process: BackendProcess, tmp_path: Path
) -> None:
    cache = offline_cache(tmp_path)
    session = session_for(backend_process.url, cache)
    session.present_card("1001")
    assert session.view.state is SessionState.IDENTIFIED and not session.view.offline
    session.logout()
    backend_process.stop()

    session.present_card("1002")  # bob: never seen on this kiosk
    refused = session.view
    assert (refused.state, refused.error, refused.offline) == (
        SessionState.IDLE, OFFLINE_USER_UNKNOWN, True)
    session.login_with_pin("alice", "1234")
    assert session.view.error == OFFLINE_PIN_UNAVAILABLE
    session.present_card(" 1001 ")
    assert session.view.state is SessionState.IDENTIFIED
    assert session.view.offline
    assert session.view.identity is not None
    assert session.view.identity.username == "alice"
    assert session.view.identity.balance.available == Decimal("15.00")
    assert session.view.balance_age_s is not None

    backend_process.start()
    session.logout()
    session.present_card("1001")
    assert session.view.state is SessionState.IDENTIFIED and not session.view.offline


def test_user_over_the_offline_limit_is_refused_and_the_queue_drains(
    backend_process: BackendProcess, tmp_path: Path
) -> None:
    book, cache = book_for(backend_process.url, tmp_path, "1.00")
    cache.remember("1001", client(backend_process.url).identify_card("1001"))
    backend_process.stop(kill=True)

    first = book.authorise("alice", Decimal("0.60"), "job", "off-1")
    assert first.offline and first.hold_id is None
    with pytest.raises(OfflineRefused) as refused:
        book.authorise("alice", Decimal("0.50"), "job", "off-2")
    assert refused.value.code == OFFLINE_LIMIT_REACHED
    with pytest.raises(OfflineRefused) as unknown:
        book.authorise("bob", Decimal("0.10"), "job", "off-3")
    assert unknown.value.code == OFFLINE_USER_UNKNOWN
    settled = book.capture(first.key, Decimal("0.55"), pages=11, colour_pages=0)
    assert not settled.sent

    backend_process.start()
    drain_until_empty(book)
    holds = {hold.job_ref: hold for hold in backend_process.holds()}
    assert holds["off-1"].status == "captured" and holds["off-1"].captured == Decimal("0.55")
    assert all(holds[ref].status == "voided" for ref in ("off-2", "off-3") if ref in holds)
    assert backend_process.charge_count() == 1
    refreshed = cache.find_user("alice")
    assert refreshed is not None
    assert refreshed.identity.balance.available == Decimal("14.45")


def test_reports_made_during_an_outage_are_stored_once_in_order(
    backend_process: BackendProcess, tmp_path: Path
) -> None:
    book, _ = book_for(backend_process.url, tmp_path, "1.00")
    backend = client(backend_process.url)
    monitor = FakePrinterMonitor({"total": 10}, [FakeSupply("black", 50)])
    clock = ManualClock()
    beats: list[bool] = []
    reporter = Reporter(book, monitor, backend.health, ReportSchedule(30, 900), clock,
                        beats.append)
    reporter.tick()
    assert not book.drain().remaining
    backend_process.stop(kill=True)
    monitor.active_alerts = [FakeAlert("toner_low", "warning")]
    monitor.counter_values["total"] = 25
    clock.advance(900)
    reporter.tick()
    reporter.job_released("cups-7", "alice", 15, 0, Decimal("1.50"), "completed")
    assert beats == [True, False]
    assert book.drain().remaining
    backend_process.start()
    clock.advance(30)
    reporter.tick()
    assert beats[-1] is True
    assert not book.drain().remaining
    assert not book.drain().remaining  # nothing is sent twice
    stored = backend_process.events()
    assert [kind for kind, _ in stored] == [
        "counters", "supplies", "alert", "counters", "supplies", "job_report"]
    assert len({key for _, key in stored}) == len(stored)
