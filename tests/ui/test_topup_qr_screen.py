"""The QR screen on its own (needs a display: the QR is a GL texture): the countdown and
the code taken away at expiry, and what it says for each kind of gateway."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

from drivers.qr import qr_modules
from terminal.ports import TopUp

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
TOPUP = TopUp("T-1", "pending", Decimal("5.00"), "EUR", "7KQ2MX", "BCD\n002\n1\nSCT",
              "http://192.0.2.7:8470/pay/abc", START + timedelta(seconds=90))


@pytest.mark.ui
def test_the_countdown_runs_to_expiry_and_the_code_goes() -> None:
    if not os.environ.get("DISPLAY"):
        pytest.fail("UI tests need an X display: run them through scripts/test.sh (xvfb-run)")
    from kiosk.i18n import Translator
    from kiosk.topup_screens import TopUpQrScreen

    now = [START]
    screen = TopUpQrScreen(Translator("en", "Europe/Paris"), on_cancel=lambda _t: None,
                           now=lambda: now[0])
    screen.show(TOPUP, qr_modules(TOPUP.qr_payload), "bank_transfer")
    assert screen.countdown.text == "Expires in 1:30" and screen.qr.opacity == 1
    assert "banking app" in screen.hint.text and screen.url.text == ""
    now[0] = START + timedelta(seconds=89.5)
    screen.tick()
    assert screen.countdown.text == "Expires in 0:01"
    now[0] = START + timedelta(seconds=90)
    screen.tick()
    assert screen.countdown.text == "This code has expired." and screen.qr.opacity == 0
    now[0] = START
    screen.show(TOPUP, qr_modules(TOPUP.pay_url), "demo")
    assert "phone's camera" in screen.hint.text
    assert screen.url.text == "Or open in a browser: http://192.0.2.7:8470/pay/abc"
    screen.show(replace(TOPUP, pay_url=None), qr_modules(TOPUP.qr_payload), "another")
    assert screen.url.text == "", "no page to open"
    screen.ended()  # paid, declined, cancelled: the code goes, whatever the clock says
    screen.tick()
    assert screen.qr.opacity == 0
