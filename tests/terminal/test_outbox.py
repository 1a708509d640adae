"""The outbox journal on a real SQLite file: order, durability, what is left mid-way."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from terminal.outbox import EntryKind, EntryState, Outbox


def test_entries_come_back_in_recorded_order_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path)
    hold = outbox.record(EntryKind.HOLD, {"job_ref": "j1"}, username="alice",
                         amount=Decimal("0.60"))
    event = outbox.record(EntryKind.EVENT, {"kind": "counters"})
    capture = outbox.record(EntryKind.CAPTURE, {"amount": "0.50"}, parent=hold.key)
    outbox.close()

    reopened = Outbox(path)
    assert [e.key for e in reopened.pending()] == [hold.key, event.key, capture.key]
    assert len({hold.key, event.key, capture.key}) == 3
    assert reopened.get(hold.key) == hold
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_sent_and_refused_entries_leave_the_queue_with_their_answer(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    first = outbox.record(EntryKind.HOLD, {"job_ref": "a"})
    second = outbox.record(EntryKind.HOLD, {"job_ref": "b"})
    outbox.mark_sent(first.key, {"hold_id": "h1"})
    outbox.mark_refused(second.key, "insufficient_funds", "0.10 missing")
    outbox.mark_sent(second.key, {"hold_id": "late"})  # settled entries never change
    assert outbox.pending() == []
    assert outbox.get(first.key).result == {"hold_id": "h1"}  # type: ignore[union-attr]
    refused = outbox.get(second.key)
    assert refused is not None and refused.state is EntryState.REFUSED
    assert refused.result == {"code": "insufficient_funds", "detail": "0.10 missing"}
    assert outbox.counts() == {EntryState.PENDING: 0, EntryState.SENT: 1,
                               EntryState.REFUSED: 1}


def test_unsettled_holds_and_unsent_spending(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    captured = outbox.record(EntryKind.HOLD, {"job_ref": "1"}, username="alice",
                             amount=Decimal("1.00"))
    outbox.record(EntryKind.CAPTURE, {}, parent=captured.key)
    cut_short = outbox.record(EntryKind.HOLD, {"job_ref": "2"}, username="alice",
                              amount=Decimal("0.25"))
    voided = outbox.record(EntryKind.HOLD, {"job_ref": "3"}, username="alice",
                           amount=Decimal("9.00"))
    outbox.record(EntryKind.VOID, {}, parent=voided.key)
    bob = outbox.record(EntryKind.HOLD, {"job_ref": "4"}, username="bob",
                        amount=Decimal("2.00"))

    assert [e.key for e in outbox.unsettled_holds()] == [cut_short.key, bob.key]
    assert outbox.settlement_of(voided.key) is not None
    # Captured-or-not, a pending hold is spending the backend has not heard of; a voided
    # one is not, and another user's never is.
    assert outbox.unsent_spending("alice") == Decimal("1.25")
    outbox.mark_sent(captured.key, {"hold_id": "h"})
    assert outbox.unsent_spending("alice") == Decimal("0.25")
    assert [e.body["job_ref"] for e in outbox.holds_for_job("2")] == ["2"]


def test_prune_forgets_old_sent_entries_but_keeps_what_is_still_needed(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    done = outbox.record(EntryKind.HOLD, {"job_ref": "1"})
    done_capture = outbox.record(EntryKind.CAPTURE, {}, parent=done.key)
    waiting = outbox.record(EntryKind.HOLD, {"job_ref": "2"})
    waiting_capture = outbox.record(EntryKind.CAPTURE, {}, parent=waiting.key)
    refused = outbox.record(EntryKind.HOLD, {"job_ref": "3"})
    for entry in (done, done_capture, waiting):
        outbox.mark_sent(entry.key, {"hold_id": "h"})
    outbox.mark_refused(refused.key, "insufficient_funds")

    assert outbox.prune(datetime.fromisoformat(done.recorded_at)) == 0  # nothing older
    assert outbox.prune(datetime.now(UTC) + timedelta(seconds=1)) == 2
    remaining = {e.key for e in outbox.holds()} | {e.key for e in outbox.pending()}
    assert remaining == {waiting.key, waiting_capture.key, refused.key}
