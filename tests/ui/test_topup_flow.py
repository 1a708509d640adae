"""The top-up flow off the Kivy thread: the long-poll followed until the top-up ends, an
answer after the user left dropped (the payment still credited), the QR's texture keeps
the quiet zone, and the refusals say what to do in each language."""

from __future__ import annotations

import os
from decimal import Decimal

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

from kivy.clock import Clock

from kiosk.i18n import Translator
from kiosk.topup_flow import TopUpFlow
from kiosk.topup_screens import qr_side, topup_refusal_text
from terminal.fakes import FakeLedger, InlineExecutor
from terminal.ports import TopUp, TopUpOptions, TopUpRefusal
from terminal.topups import TopUpDesk


class _Seen:
    def __init__(self) -> None:
        self.options: list[TopUpOptions | TopUpRefusal] = []
        self.started: list[TopUp | TopUpRefusal] = []
        self.updates: list[TopUp] = []

    def flow(self, ledger: FakeLedger) -> TopUpFlow:
        # no sleeping between the fake's instant answers: the desk's clock says a second
        # went by each time (the once-a-second rule is tested in tests/terminal)
        ticks = iter(range(0, 10_000))
        desk = TopUpDesk(ledger, clock=lambda: float(next(ticks)), sleep=lambda _s: None,
                          wait_s=0.0)
        return TopUpFlow(desk, InlineExecutor(), self.options.append, self.started.append,
                         self.updates.append)


def _ticks(count: int) -> None:
    for _ in range(count):
        Clock.tick()


def test_a_started_top_up_is_followed_until_paid_then_no_longer_asked() -> None:
    ledger = FakeLedger({"alice": Decimal("1.00")})
    seen = _Seen()
    flow = seen.flow(ledger)
    flow.options("alice")
    flow.start("alice", Decimal("5.00"))
    _ticks(2)
    assert seen.options == [ledger.topup_options_answer]
    (topup,) = seen.started
    assert isinstance(topup, TopUp) and topup.pending
    ledger.waits.clear()
    _ticks(1)  # the first long-poll's answer: still pending (the fake held 0 s)
    assert seen.updates and seen.updates[-1].pending
    ledger.settle_topup(topup.topup_id, "paid")
    _ticks(3)
    assert seen.updates[-1].status == "paid"
    assert seen.updates[-1].balance is not None
    assert seen.updates[-1].balance.available == Decimal("6.00")
    asked = len(ledger.waits)
    _ticks(3)
    assert len(ledger.waits) == asked, "a paid top-up is not asked about again"


def test_an_answer_after_the_user_left_is_not_shown_and_the_payment_still_counts() -> None:
    ledger = FakeLedger({"alice": Decimal("0.00")})
    seen = _Seen()
    flow = seen.flow(ledger)
    flow.start("alice", Decimal("2.00"))
    _ticks(1)
    (topup,) = seen.started
    assert isinstance(topup, TopUp)
    flow.end()  # logged out while the QR was shown
    ledger.settle_topup(topup.topup_id, "paid")
    updates = len(seen.updates)
    _ticks(3)
    assert len(seen.updates) == updates
    assert ledger.available["alice"] == Decimal("2.00")


def test_cancel_comes_back_as_an_update() -> None:
    ledger = FakeLedger({"alice": Decimal("0.00")})
    seen = _Seen()
    flow = seen.flow(ledger)
    flow.start("alice", Decimal("2.00"))
    _ticks(1)
    (topup,) = seen.started
    assert isinstance(topup, TopUp)
    flow.cancel("alice", topup)
    _ticks(3)
    assert seen.updates[-1].status == "cancelled"


def test_the_qr_is_drawn_at_whole_pixels_per_module() -> None:
    assert qr_side(45, 440) == 360  # 8 px a module, the 400 px cap first
    assert qr_side(45, 300) == 270
    assert qr_side(45, 20) == 45


def test_refusals_name_the_limits_and_what_to_do_in_each_language() -> None:
    english, french = Translator("en", "Europe/Paris"), Translator("fr", "Europe/Paris")
    amount = TopUpRefusal("topup_amount", Decimal("1.00"), Decimal("100.00"))
    assert topup_refusal_text(english, amount, "EUR") == \
        "The amount must be between €1.00 and €100.00."
    assert topup_refusal_text(french, amount, "EUR") == \
        "Le montant doit être compris entre 1,00\u00a0€ et 100,00\u00a0€."
    assert "server" in topup_refusal_text(english, TopUpRefusal("topup_offline"), "EUR")
    assert "serveur" in topup_refusal_text(french, TopUpRefusal("topup_offline"), "EUR")
