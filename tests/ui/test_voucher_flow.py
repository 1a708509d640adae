"""The voucher flow off the Kivy thread: an answer after the user left is dropped, a
receipt printer's failure comes back as its reason, the receipt in the user's language."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

from kivy.clock import Clock

from billing.voucher_codes import new_code
from kiosk.i18n import Translator
from kiosk.voucher_flow import VoucherFlow
from kiosk.voucher_screens import voucher_receipt
from terminal.fakes import FakeLedger, FakeReceiptPrinter, InlineExecutor
from terminal.ports import Balance, Redemption, VoucherCredit
from terminal.vouchers import VoucherDesk

CREDIT = VoucherCredit("LIB", 17, Decimal("5.00"), "EUR", date(2027, 6, 30), Decimal("5.00"),
                       Balance("EUR", Decimal("2.00"), Decimal("10.50"), Decimal("0.00"),
                               Decimal("12.50")), 123)


def test_an_answer_that_arrives_after_the_user_left_is_not_shown() -> None:
    code = new_code()
    ledger = FakeLedger({"alice": Decimal("0.00")})
    ledger.vouchers[code.body] = Decimal("2.00")
    answers: list[Redemption] = []
    flow = VoucherFlow(VoucherDesk(ledger), InlineExecutor(), answers.append)
    flow.redeem("alice", code.body)
    flow.end()  # logged out before the Kivy clock delivered it
    Clock.tick()
    assert answers == []
    assert ledger.available["alice"] == Decimal("2.00"), "credited all the same"


def test_a_receipt_prints_in_the_users_language_and_a_failure_says_why() -> None:
    printer = FakeReceiptPrinter()
    done: list[str | None] = []
    flow = VoucherFlow(VoucherDesk(FakeLedger()), InlineExecutor(), lambda _a: None)
    receipt = voucher_receipt(Translator("fr", "Europe/Paris"), CREDIT, "Borne BU",
                              datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    flow.print_receipt(printer, receipt, done.append)
    printer.failure = "network:192.0.2.60:9100: no answer: check the printer is on"
    flow.print_receipt(printer, receipt, done.append)
    Clock.tick()
    assert done == [None, "network:192.0.2.60:9100: no answer: check the printer is on"]
    assert printer.printed == [receipt]
    assert receipt.title == "Bon utilisé"
    assert dict(receipt.lines) == {
        "Crédit ajouté": "5,00\u00a0€", "Nouveau solde": "12,50\u00a0€", "Bon": "LIB 17",
        "Date": "01/12/2026 16:00", "Borne": "Borne BU"}


def test_refusals_say_when_and_how_long_in_each_language() -> None:
    from kiosk.voucher_screens import refusal_text
    from terminal.ports import VoucherRefusal

    english, french = Translator("en", "Europe/Paris"), Translator("fr", "Europe/Paris")
    expired = VoucherRefusal("voucher_expired", expires_on=date(2027, 6, 30))
    assert refusal_text(english, expired) == "This voucher expired on 30 June 2027."
    assert refusal_text(french, expired) == "Ce bon a expiré le 30 juin 2027."
    redeemed = VoucherRefusal("voucher_redeemed",
                              redeemed_at=datetime(2026, 11, 3, 9, 5, tzinfo=UTC))
    assert refusal_text(french, redeemed) == "Ce bon a déjà été utilisé le 03/11/2026 10:05."
    locked = VoucherRefusal("voucher_rate_limited", retry_after_s=61)
    assert refusal_text(english, locked) == "Too many attempts: try again in 2 minutes."
    assert refusal_text(french, VoucherRefusal("voucher_rate_limited", retry_after_s=30)) \
        == "Trop de tentatives : réessayez dans 1 minute."
    assert refusal_text(english, VoucherRefusal("voucher_revoked")).startswith(
        "This voucher has been cancelled")
