"""The kiosk-facing voucher redemption over the fake ledger: typos never sent, offline
refused and never queued, the idempotency key reused after an unanswered attempt."""

from __future__ import annotations

from decimal import Decimal
from itertools import count

from billing.voucher_codes import new_code
from terminal.fakes import FakeLedger
from terminal.ports import BackendRejected, VoucherCredit, VoucherRefusal
from terminal.vouchers import OFFLINE, TYPO, VoucherDesk, assess


def _desk(ledger: FakeLedger) -> VoucherDesk:
    numbers = count(1)
    return VoucherDesk(ledger, new_key=lambda: f"key-{next(numbers)}")


def _typo(body: str) -> str:
    """``body`` with its first character replaced: a wrong check character."""
    first = "1" if body[0] != "1" else "2"
    return first + body[1:]


def test_a_typo_or_a_foreign_character_is_refused_without_asking_the_backend() -> None:
    code = new_code("LIB")
    ledger = FakeLedger({"alice": Decimal("1.00")})
    ledger.vouchers[code.body] = Decimal("5.00")
    desk = _desk(ledger)
    assert assess(_typo(code.body)).status == "typo"
    for text in (_typo(code.body), code.body[:-1] + "U", code.body[:6], ""):
        assert desk.redeem("alice", text) == VoucherRefusal(TYPO), text
    assert ledger.calls == []


def test_a_valid_code_is_credited_once_and_redeemed_again_is_refused_with_its_date() -> None:
    code = new_code("LIB")
    ledger = FakeLedger({"alice": Decimal("1.00")})
    ledger.vouchers[code.body] = Decimal("5.00")
    desk = _desk(ledger)
    # as scanned from the card's QR: prefix, dashes
    first = desk.redeem("alice", code.display)
    assert isinstance(first, VoucherCredit)
    assert first.credited == Decimal("5.00") and first.balance.available == Decimal("6.00")
    again = desk.redeem("alice", code.body.lower())
    assert isinstance(again, VoucherRefusal) and again.code == "voucher_redeemed"
    assert again.redeemed_at is not None
    assert ledger.available["alice"] == Decimal("6.00")
    assert [key for method, key in ledger.calls] == ["key-1", "key-2"]


def test_offline_is_refused_at_once_and_the_retry_reuses_the_unanswered_key() -> None:
    code = new_code()
    ledger = FakeLedger({"alice": Decimal("0.00")})
    ledger.vouchers[code.body] = Decimal("2.00")
    desk = _desk(ledger)
    ledger.lose_answers = True  # credited, but the answer never came back
    assert desk.redeem("alice", code.body) == VoucherRefusal(OFFLINE)
    ledger.down = True
    assert desk.redeem("alice", code.body) == VoucherRefusal(OFFLINE)
    ledger.down = ledger.lose_answers = False
    answer = desk.redeem("alice", code.display)
    # the same attempt: the first answer (a credit), not "already redeemed" by herself
    assert isinstance(answer, VoucherCredit) and answer.balance.available == Decimal("2.00")
    assert [key for _method, key in ledger.calls] == ["key-1", "key-1", "key-1"]
    # a new attempt after an answer gets a new key
    assert isinstance(desk.redeem("alice", code.body), VoucherRefusal)
    assert ledger.calls[-1] == ("redeem_voucher", "key-2")


def test_a_refusal_of_the_session_is_an_answer_with_its_code() -> None:
    code = new_code()
    ledger = FakeLedger({"alice": Decimal("0.00")})
    ledger.refuse_all = BackendRejected("session_expired", status=401)
    assert _desk(ledger).redeem("alice", code.body) == VoucherRefusal("session_expired")
