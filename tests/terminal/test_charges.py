"""The durable charge flow over the in-memory ledger fake (the real backend: test_outage)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from terminal.charges import (
    AlreadySettled,
    ChargeBook,
    DrainReport,
    OutboxDrainer,
)
from terminal.fakes import FakeLedger
from terminal.offline import OFFLINE_LIMIT_REACHED, OfflineCache, OfflinePolicy, OfflineRefused
from terminal.outbox import EntryKind, EntryState, Outbox
from terminal.ports import BackendRejected, Balance, Identity

ALICE = Identity("alice", "Alice", "en",
                 Balance("EUR", Decimal("10.00"), Decimal("0"), Decimal("0"), Decimal("10.00")))


def make_book(tmp_path: Path, ledger: FakeLedger, limit: str = "5.00") -> ChargeBook:
    cache = OfflineCache(tmp_path / "offline.sqlite3", b"k" * 32, max_age_s=3600)
    cache.remember("1001", ALICE)
    return ChargeBook(Outbox(tmp_path / "outbox.sqlite3"), ledger,
                      OfflinePolicy(True, Decimal(limit)), cache)


def test_online_hold_and_capture_are_journalled_then_sent(tmp_path: Path) -> None:
    ledger = FakeLedger({"alice": Decimal("10.00")})
    book = make_book(tmp_path, ledger)
    authorisation = book.authorise("alice", Decimal("1.00"), "report.pdf", "job-1")
    assert not authorisation.offline and authorisation.hold_id == "h1"
    settled = book.capture(authorisation.key, Decimal("0.80"), pages=8, colour_pages=0)
    assert settled.sent and settled.balance is not None
    assert settled.balance.available == Decimal("9.20")
    assert ledger.charged() == {"job-1": Decimal("0.80")}
    assert [method for method, _ in ledger.calls] == ["hold", "capture"]
    assert ledger.calls[0][1] == authorisation.key  # the journal's key is the request's
    with pytest.raises(AlreadySettled):
        book.capture(authorisation.key, Decimal("0.80"), pages=8, colour_pages=0)


def test_lost_answers_are_resent_with_the_same_key_and_charge_once(tmp_path: Path) -> None:
    ledger = FakeLedger({"alice": Decimal("10.00")})
    book = make_book(tmp_path, ledger)
    ledger.lose_answers = True
    authorisation = book.authorise("alice", Decimal("1.00"), "x", "job-1")
    assert authorisation.offline  # no answer: decided by the offline policy
    book.capture(authorisation.key, Decimal("1.00"), pages=10, colour_pages=0)
    ledger.lose_answers = False
    assert not book.drain().remaining
    assert ledger.charged() == {"job-1": Decimal("1.00")}
    assert len(ledger.holds) == 1
    hold_keys = [key for method, key in ledger.calls if method == "hold"]
    assert len(hold_keys) >= 2 and len(set(hold_keys)) == 1


def test_offline_queue_drains_in_order_and_limit_counts_unsent_holds(tmp_path: Path) -> None:
    ledger = FakeLedger({"alice": Decimal("10.00")})
    book = make_book(tmp_path, ledger, limit="2.00")
    ledger.down = True
    first = book.authorise("alice", Decimal("1.50"), "a", "job-1")
    book.capture(first.key, Decimal("1.40"), pages=14, colour_pages=0)
    book.record_event("counters", {"counters": {"total": 5}})
    with pytest.raises(OfflineRefused) as refused:
        book.authorise("alice", Decimal("0.60"), "b", "job-2")
    assert refused.value.code == OFFLINE_LIMIT_REACHED
    assert book.drain().reachable is False
    assert ledger.holds == {}

    ledger.down = False
    report = book.drain()
    assert not report.remaining and report.sent == 5  # hold, capture, event, hold, void
    assert ledger.charged() == {"job-1": Decimal("1.40"), "job-2": Decimal("0.00")}
    sent_order = [method for method, _ in ledger.calls][-5:]
    assert sent_order == ["hold", "capture", "events", "hold", "void"]
    assert len(ledger.events) == 1


def test_refused_offline_hold_refuses_its_capture_and_is_kept(tmp_path: Path) -> None:
    ledger = FakeLedger({"alice": Decimal("0.50")})  # spent elsewhere meanwhile
    book = make_book(tmp_path, ledger)
    refusals: list[str] = []
    book = ChargeBook(book.outbox, ledger, OfflinePolicy(True, Decimal("5.00")),
                      OfflineCache(tmp_path / "offline.sqlite3", b"k" * 32, 3600),
                      on_refused=lambda entry: refusals.append(entry.kind.value))
    ledger.down = True
    authorisation = book.authorise("alice", Decimal("1.00"), "a", "job-1")
    book.capture(authorisation.key, Decimal("1.00"), pages=10, colour_pages=0)
    ledger.down = False
    assert book.drain().refused == 2
    assert refusals == ["hold", "capture"]
    states = {e.kind: e.state for e in book.outbox.holds()}
    assert states == {EntryKind.HOLD: EntryState.REFUSED}
    assert ledger.charged() == {}


def test_terminal_refusals_keep_entries_for_later(tmp_path: Path) -> None:
    ledger = FakeLedger({"alice": Decimal("10.00")})
    book = make_book(tmp_path, ledger)
    ledger.refuse_all = BackendRejected("terminal_unauthorized", status=401)
    authorisation = book.authorise("alice", Decimal("1.00"), "a", "job-1")
    assert authorisation.offline
    ledger.refuse_all = None
    assert not book.drain().remaining
    assert len(ledger.holds) == 1


def test_online_refusal_is_raised_with_the_backend_code(tmp_path: Path) -> None:
    ledger = FakeLedger({"alice": Decimal("0.10")})
    book = make_book(tmp_path, ledger)
    with pytest.raises(BackendRejected) as refused:
        book.authorise("alice", Decimal("1.00"), "a", "job-1")
    assert refused.value.code == "insufficient_funds"
    assert book.unsettled() == []


def test_unsettled_holds_survive_a_restart(tmp_path: Path) -> None:
    ledger = FakeLedger({"alice": Decimal("10.00")})
    first = make_book(tmp_path, ledger)
    authorisation = first.authorise("alice", Decimal("1.00"), "a", "job-9")
    first.outbox.close()
    again = make_book(tmp_path, ledger)
    assert [a.key for a in again.unsettled()] == [authorisation.key]
    assert again.unsettled()[0].hold_id == authorisation.hold_id
    again.void(authorisation.key, "restarted mid-job")
    assert again.unsettled() == []
    assert ledger.charged() == {"job-9": Decimal("0.00")}


def test_drainer_thread_sends_what_was_queued_offline(tmp_path: Path) -> None:
    ledger = FakeLedger({"alice": Decimal("10.00")})
    book = make_book(tmp_path, ledger)
    ledger.down = True
    authorisation = book.authorise("alice", Decimal("1.00"), "a", "job-1")
    book.capture(authorisation.key, Decimal("1.00"), pages=10, colour_pages=0)
    ledger.down = False
    drained: list[DrainReport] = []
    drainer = OutboxDrainer(book, idle_s=0.05, on_drained=drained.append)
    drainer.start()
    try:
        for _ in range(200):
            if ledger.charged():
                break
            drainer.wake()
            book.recorded.wait(0.05)
    finally:
        drainer.stop()
    assert ledger.charged() == {"job-1": Decimal("1.00")}
    assert drained and drained[-1].reachable
