"""The kiosk-facing top-up over the fake ledger: amounts judged live against the limits,
offline refused and never queued, the start's key reused after an unanswered attempt,
the long-poll woken by the payment, never asked faster than once a second."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from itertools import count

from terminal.fakes import FakeLedger
from terminal.ports import TopUp, TopUpRefusal
from terminal.topups import MIN_POLL_S, OFFLINE, TopUpDesk, judge, missing_amount


def _desk(ledger: FakeLedger) -> TopUpDesk:
    numbers = count(1)
    return TopUpDesk(ledger, new_key=lambda: f"key-{next(numbers)}")


def test_typed_amounts_are_judged_against_the_backends_limits() -> None:
    limits = FakeLedger().topup_options_answer  # 1.00 .. 100.00
    assert [judge(text, limits).status for text in
            ("", "0.50", "1", "5,5", "100.00", "100.01", "1.234", "1..2", ".", "12a")] == [
        "empty", "below", "ok", "ok", "ok", "above", "malformed", "malformed", "malformed",
        "malformed"]
    assert judge("5,5", limits).amount == Decimal("5.50")


def test_the_missing_amount_is_rounded_up_and_at_least_the_minimum() -> None:
    limits = FakeLedger().topup_options_answer
    assert missing_amount(Decimal("0.20"), limits) == Decimal("1.00")
    assert missing_amount(Decimal("3.421"), limits) == Decimal("3.43")
    assert missing_amount(Decimal("250"), limits) == Decimal("100.00")


def test_a_paid_top_up_wakes_the_waiting_kiosk_at_once_with_the_new_balance() -> None:
    ledger = FakeLedger({"alice": Decimal("1.50")})
    desk = _desk(ledger)
    topup = desk.start("alice", Decimal("5.00"))
    assert isinstance(topup, TopUp) and topup.pending and topup.qr_payload
    threading.Timer(0.3, lambda: ledger.settle_topup(topup.topup_id, "paid")).start()
    began = time.monotonic()
    paid = desk.wait("alice", topup, wait_s=10)
    assert time.monotonic() - began < 1.5, "woken by the payment, not at the end of the wait"
    assert paid.status == "paid" and paid.balance is not None
    assert paid.balance.available == Decimal("6.50")


def test_an_amount_out_of_limits_is_refused_with_them() -> None:
    desk = _desk(FakeLedger({"alice": Decimal("0")}))
    assert desk.start("alice", Decimal("0.50")) == TopUpRefusal(
        "topup_amount", Decimal("1.00"), Decimal("100.00"))


def test_offline_is_refused_at_once_and_the_retry_reuses_the_unanswered_key() -> None:
    ledger = FakeLedger({"alice": Decimal("0")})
    desk = _desk(ledger)
    ledger.lose_answers = True  # created, but the answer never came back
    assert desk.start("alice", Decimal("5.00")) == TopUpRefusal(OFFLINE)
    ledger.down = True
    assert desk.options("alice") == TopUpRefusal(OFFLINE)
    assert desk.start("alice", Decimal("5.00")) == TopUpRefusal(OFFLINE)
    ledger.down = ledger.lose_answers = False
    again = desk.start("alice", Decimal("5.00"))
    assert isinstance(again, TopUp)
    assert len(ledger.topups) == 1, "one top-up pending, not two"
    assert [key for method, key in ledger.calls if method == "create_topup"] == [
        "key-1", "key-1", "key-1"]


def test_a_failing_backend_is_never_asked_more_than_once_a_second() -> None:
    ledger = FakeLedger({"alice": Decimal("0")})
    desk = _desk(ledger)
    topup = desk.start("alice", Decimal("2.00"))
    assert isinstance(topup, TopUp)
    ledger.down = True
    began = time.monotonic()
    for _ in range(3):
        assert desk.wait("alice", topup) == topup
    assert time.monotonic() - began >= 3 * MIN_POLL_S - 0.05
    assert [method for method, _key in ledger.calls].count("wait_topup") == 3


def test_cancel_ends_a_pending_top_up_but_a_paid_one_stays_paid() -> None:
    ledger = FakeLedger({"alice": Decimal("0")})
    desk = _desk(ledger)
    first, second = desk.start("alice", Decimal("2.00")), desk.start("alice", Decimal("3.00"))
    assert isinstance(first, TopUp) and isinstance(second, TopUp)
    cancelled = desk.cancel("alice", first)
    assert isinstance(cancelled, TopUp) and cancelled.status == "cancelled"
    ledger.settle_topup(second.topup_id, "paid")
    late = desk.cancel("alice", second)
    assert isinstance(late, TopUp) and late.status == "paid"
    assert ledger.available["alice"] == Decimal("3.00")
