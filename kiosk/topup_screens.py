"""Add credit -> Top up: the amount, the payment QR code, and how it ended.

The amount screen offers the backend's presets as big buttons and an amount keypad, and
judges what is typed live against the backend's min and max (the same judgement the
terminal core makes, :func:`terminal.topups.judge`), so *Continue* is enabled only for an
amount the backend will take. After "not enough credit" it opens with the missing amount
typed in (at least the minimum).

The QR screen draws the code as a texture of whole pixels per module with no smoothing
(``nearest``), quiet zone included and white, as large as the screen's height allows:
about 60 mm on a 7-inch 800x480 panel, which a phone reads from arm's length. Beside it:
the amount, the short code the user can quote at the cash desk, a countdown to the
code's expiry, the pay URL for a browser on the machine, and *Cancel*. When the
countdown reaches zero the code is taken off the screen at once (it no longer pays);
the backend's last word still follows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kivy.graphics.texture import Texture
from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.i18n import Translator
from kiosk.keypad import BACKSPACE, AmountKeypad
from kiosk.widgets import (
    ACCENT,
    DANGER,
    DANGER_TEXT,
    DARK_TEXT,
    MUTED,
    OK,
    OK_TEXT,
    TEXT,
    WARNING,
    Backdrop,
    text,
    touch_button,
)
from terminal.ports import TopUp, TopUpOptions, TopUpRefusal
from terminal.topups import AmountJudgement, judge, missing_amount

MAX_TYPED = 7  # digits and separator: 9999,99 at most
QR_MAX_SIDE = 400  # px: the QR's side at most (the window's height bounds it first)
Modules = Sequence[Sequence[bool]]


def qr_texture(modules: Modules) -> Texture:
    """One texel per module, dark on white; drawn scaled with no smoothing."""
    size = len(modules)
    # a texture's first row is the bottom one
    pixels = bytes(0 if dark else 255 for row in reversed(modules) for dark in row)
    texture = Texture.create(size=(size, size), colorfmt="luminance")
    texture.blit_buffer(pixels, colorfmt="luminance", bufferfmt="ubyte")
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture


def qr_side(modules: int, room: float) -> int:
    """The largest side in whole pixels per module that fits ``room``."""
    return max(1, int(min(room, QR_MAX_SIDE) // modules)) * modules


class TopUpAmountScreen(Screen):
    """Pick or type an amount; ``on_continue(amount)`` for one within the limits."""

    def __init__(self, tr: Translator, on_continue: Callable[[Decimal], None],
                 on_back: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(name="topup", **kwargs)
        self._tr = tr
        self._on_continue = on_continue
        self.options: TopUpOptions | None = None
        self.refusal: TopUpRefusal | None = None
        self.typed = ""
        self.waiting = False
        self._short_by: Decimal | None = None
        root = Backdrop(padding=dp(10), spacing=dp(6))
        self.heading = text(22, bold=True, size_hint_y=None, height=dp(30))
        top = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(8))
        self.back_button = touch_button(colour=MUTED, size_hint_x=0.6)
        self.back_button.color = DARK_TEXT
        self.back_button.bind(on_release=lambda *_: on_back())
        self.field = touch_button(colour=TEXT, size_hint_x=1.4)
        self.field.color = self.field.disabled_color = DARK_TEXT
        self.field.background_disabled_normal = ""
        self.field.disabled = True  # a display, not a target
        self.continue_button = touch_button(colour=OK, size_hint_x=1.0)
        self.continue_button.background_disabled_normal = ""
        self.continue_button.bind(on_release=lambda *_: self.submit())
        for widget in (self.back_button, self.field, self.continue_button):
            top.add_widget(widget)
        self.status = text(17, size_hint_y=None, height=dp(44))  # two lines
        below = BoxLayout(spacing=dp(12))
        self.presets = GridLayout(cols=2, spacing=dp(8), size_hint_x=0.9)
        self.preset_buttons: dict[Decimal, Any] = {}
        self.keypad = AmountKeypad(self._key, size_hint_x=1.1)
        below.add_widget(self.presets)
        below.add_widget(self.keypad)
        for widget in (self.heading, top, self.status, below):
            root.add_widget(widget)
        self.add_widget(root)
        self.retranslate()

    def open(self, short_by: Decimal | None = None) -> None:
        """A new visit: options asked again; ``short_by`` pre-fills the missing amount."""
        self.options = None
        self.refusal = None
        self.typed = ""
        self.waiting = False
        self._short_by = short_by
        self.presets.clear_widgets()
        self.preset_buttons = {}
        self._refresh()

    def clear(self) -> None:
        self.open()

    def show_options(self, answer: TopUpOptions | TopUpRefusal) -> None:
        if isinstance(answer, TopUpRefusal):
            self.refusal = answer
            self._refresh()
            return
        self.options = answer
        for amount in answer.presets:
            button = touch_button(colour=ACCENT, size_hint_y=1)
            button.bind(on_release=lambda *_, value=amount: self._preset(value))
            self.preset_buttons[amount] = button
            self.presets.add_widget(button)
        if self._short_by is not None:
            self.typed = self._spelled(missing_amount(self._short_by, answer))
        self.retranslate()

    def refused(self, refusal: TopUpRefusal) -> None:
        """The backend did not start the top-up: say why, keep the amount to change it."""
        self.waiting = False
        self.refusal = refusal
        self._refresh()

    @property
    def judgement(self) -> AmountJudgement:
        if self.options is None:
            return AmountJudgement("empty")
        return judge(self.typed, self.options)

    def _spelled(self, amount: Decimal) -> str:
        """An amount as the keypad would type it, with the language's separator."""
        separator = "," if self._tr.language == "fr" else "."
        return format(amount, "f").replace(".", separator)

    def _preset(self, amount: Decimal) -> None:
        self._set(self._spelled(amount))

    def _key(self, key: str) -> None:
        if key == BACKSPACE:
            self._set(self.typed[:-1])
        elif len(self.typed) < MAX_TYPED:
            self._set(self.typed + ("." if key == "," and self._tr.language != "fr" else key))

    def _set(self, typed: str) -> None:
        if self.waiting or self.options is None:
            return
        self.typed = typed
        self.refusal = None
        self._refresh()

    def submit(self) -> None:
        judged = self.judgement
        if self.waiting or judged.status != "ok" or judged.amount is None:
            return
        self.waiting = True
        self._refresh()
        self._on_continue(judged.amount)

    def _refresh(self) -> None:
        tr = self._tr
        judged = self.judgement
        currency = self.options.currency if self.options is not None else None
        self.field.text = (self.typed + (f" {currency}" if currency else "")) if self.typed \
            else tr("Amount")
        self.field.disabled_color = DARK_TEXT if self.typed else (0.45, 0.49, 0.56, 1)
        self.status.color, self.status.text = self._state(judged)
        self.keypad.disabled = self.options is None or self.waiting
        self.continue_button.disabled = self.waiting or judged.status != "ok"
        self.continue_button.background_color = OK if not self.continue_button.disabled \
            else (0.3, 0.36, 0.33, 1)
        for amount, button in self.preset_buttons.items():
            button.text = tr.money(amount, self.options.currency if self.options else "")

    def _state(self, judged: AmountJudgement) -> tuple[tuple[float, ...], str]:
        tr = self._tr
        options = self.options
        if self.refusal is not None and options is None:
            return DANGER_TEXT, tr.error(self.refusal.code)
        if options is None:
            return MUTED, tr("One moment…")
        if self.refusal is not None:
            return DANGER_TEXT, topup_refusal_text(tr, self.refusal, options.currency)
        money = tr.money
        low, high = money(options.minimum, options.currency), money(options.maximum,
                                                                     options.currency)
        if self.waiting:
            return MUTED, tr("Preparing the payment…")
        if judged.status == "below":
            return DANGER_TEXT, tr("At least {minimum}.", minimum=low)
        if judged.status == "above":
            return DANGER_TEXT, tr("At most {maximum}.", maximum=high)
        if judged.status == "malformed":
            return DANGER_TEXT, tr("Check the amount: at most 2 decimals.")
        if judged.status == "ok" and judged.amount is not None:
            return OK_TEXT, tr("Tap Continue to pay {amount} by phone.",
                               amount=money(judged.amount, options.currency))
        return MUTED, tr("Pick an amount or type one, from {minimum} to {maximum}.",
                         minimum=low, maximum=high)

    def retranslate(self) -> None:
        tr = self._tr
        self.heading.text = tr("Top up by phone")
        self.back_button.text = tr("Back")
        self.continue_button.text = tr("Continue")
        # the separator key shows what it types in this language
        self.keypad.keys[","].text = "," if tr.language == "fr" else "."
        self._refresh()


def topup_refusal_text(tr: Translator, refusal: TopUpRefusal, currency: str) -> str:
    """What a refused top-up says; an amount out of limits names them."""
    if refusal.code == "topup_amount" and refusal.minimum is not None \
            and refusal.maximum is not None:
        return tr("The amount must be between {minimum} and {maximum}.",
                  minimum=tr.money(refusal.minimum, currency),
                  maximum=tr.money(refusal.maximum, currency))
    return tr.error(refusal.code)


class TopUpQrScreen(Screen):
    """The payment QR, the amount, the short code, a countdown and *Cancel*."""

    def __init__(self, tr: Translator, on_cancel: Callable[[TopUp], None],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 **kwargs: Any) -> None:
        super().__init__(name="topup_qr", **kwargs)
        self._tr = tr
        self._now = now
        self._on_cancel = on_cancel
        self.topup: TopUp | None = None
        self.cancelling = False
        self._ended = False
        self.gateway = ""
        root = Backdrop(orientation="horizontal", padding=dp(10), spacing=dp(14))
        self.qr_box = BoxLayout(size_hint_x=None, width=dp(QR_MAX_SIDE))
        self.qr = Image(fit_mode="contain")
        self.qr_box.add_widget(self.qr)
        side = BoxLayout(orientation="vertical", spacing=dp(6))
        self.heading = text(21, bold=True, size_hint_y=None, height=dp(56))  # two lines
        self.amount = text(34, bold=True, size_hint_y=None, height=dp(52))
        self.code = text(22, size_hint_y=None, height=dp(34))
        self.countdown = text(22, color=OK_TEXT, size_hint_y=None, height=dp(34))
        self.hint = text(16, color=MUTED)
        self.url = text(13, color=MUTED, size_hint_y=None, height=dp(40))
        self.cancel_button = touch_button(colour=DANGER)
        self.cancel_button.background_disabled_normal = ""
        self.cancel_button.bind(on_release=lambda *_: self._cancel())
        for widget in (self.heading, self.amount, self.code, self.countdown, self.hint,
                       self.url, self.cancel_button):
            side.add_widget(widget)
        root.add_widget(self.qr_box)
        root.add_widget(side)
        self.add_widget(root)
        self.bind(height=lambda *_: self._fit())

    def show(self, topup: TopUp, modules: Modules, gateway: str) -> None:
        """``gateway`` says what reads the code: a phone's camera opening the pay page,
        or (``bank_transfer``) a banking app reading a transfer order (EPC QR)."""
        self.gateway = gateway
        self.topup = topup
        self.cancelling = False
        self._ended = False
        self.qr.texture = qr_texture(modules)
        self._modules = len(modules)
        self._fit()
        self.retranslate()

    def clear(self) -> None:
        self.topup = None
        self.qr.texture = None
        self.qr.opacity = 0
        for label in (self.amount, self.code, self.countdown, self.url):
            label.text = ""

    def ended(self) -> None:
        """The top-up is no longer pending: its code pays nothing now, so it goes."""
        self._ended = True
        self.qr.opacity = 0

    def _fit(self) -> None:
        modules = getattr(self, "_modules", 0)
        if modules:
            self.qr_box.width = qr_side(modules, self.height - dp(20))

    @property
    def seconds_left(self) -> int:
        if self.topup is None:
            return 0
        return max(0, math.ceil((self.topup.expires_at - self._now()).total_seconds()))

    def tick(self) -> None:
        """Once a second: the countdown; the code taken away once it has expired."""
        if self.topup is None:
            return
        tr = self._tr
        left = self.seconds_left
        expired = left == 0
        self.qr.opacity = 0 if expired or self._ended else 1
        self.countdown.color = DANGER_TEXT if expired else (WARNING if left <= 60 else OK_TEXT)
        self.countdown.text = tr("This code has expired.") if expired else tr(
            "Expires in {minutes}:{seconds:02d}", minutes=left // 60, seconds=left % 60)

    def _cancel(self) -> None:
        if self.topup is not None and not self.cancelling:
            self.cancelling = True
            self.cancel_button.disabled = True
            self.cancel_button.text = self._tr("Cancelling…")
            self._on_cancel(self.topup)

    def retranslate(self) -> None:
        tr = self._tr
        self.heading.text = tr("Scan to pay with your phone")
        transfer = self.gateway == "bank_transfer"
        if transfer:
            self.hint.text = tr("Scan with your banking app: the credit comes with the transfer.")
        else:
            self.hint.text = tr("Scan the code with your phone's camera and pay on the page.")
        self.cancel_button.disabled = self.cancelling
        self.cancel_button.text = tr("Cancelling…") if self.cancelling else tr("Cancel")
        topup = self.topup
        if topup is None:
            return
        self.amount.text = tr.money(topup.amount, topup.currency)
        self.code.text = tr("Code: {code}", code=topup.short_code)
        self.url.text = "" if transfer or topup.pay_url is None else tr(
            "Or open in a browser: {url}", url=topup.pay_url)
        self.tick()


class TopUpResultScreen(Screen):
    """How the top-up ended: the amount added and the new balance, or why nothing was."""

    def __init__(self, tr: Translator, on_done: Callable[[], None],
                 on_again: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(name="topup_result", **kwargs)
        self._tr = tr
        self.topup: TopUp | None = None
        root = Backdrop(spacing=dp(12))
        self.heading = text(30, bold=True, size_hint_y=None, height=dp(52))
        self.added = text(26, bold=True, size_hint_y=None, height=dp(44))
        self.balance = text(24, size_hint_y=None, height=dp(40))
        self.details = text(18, color=MUTED, size_hint_y=None, height=dp(56))
        self.actions = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.again_button = touch_button(colour=ACCENT)
        self.again_button.bind(on_release=lambda *_: on_again())
        self.done_button = touch_button(colour=OK)
        self.done_button.bind(on_release=lambda *_: on_done())
        self.actions.add_widget(self.done_button)
        for widget in (self.heading, self.added, self.balance, self.details, Widget(),
                       self.actions):
            root.add_widget(widget)
        self.add_widget(root)

    def show(self, topup: TopUp) -> None:
        self.topup = topup
        if topup.status != "paid" and self.again_button.parent is None:
            self.actions.add_widget(self.again_button, index=1)
        elif topup.status == "paid" and self.again_button.parent is not None:
            self.actions.remove_widget(self.again_button)
        self.retranslate()

    def clear(self) -> None:
        self.topup = None
        for label in (self.heading, self.added, self.balance, self.details):
            label.text = ""

    def retranslate(self) -> None:
        tr = self._tr
        self.done_button.text = tr("Done")
        self.again_button.text = tr("Try again")
        topup = self.topup
        if topup is None:
            return
        amount = tr.money(topup.amount, topup.currency)
        self.added.text = self.balance.text = self.details.text = ""
        if topup.status == "paid":
            self.heading.color, self.heading.text = OK_TEXT, tr("Credit added")
            self.added.text = tr("{amount} added to your account", amount=amount)
            if topup.balance is not None:
                self.balance.text = tr("New balance: {amount}", amount=tr.money(
                    topup.balance.available, topup.balance.currency))
            self.details.text = tr("Top-up {code}", code=topup.short_code)
            return
        self.heading.color = DANGER_TEXT
        self.heading.text = {
            "expired": tr("The payment code expired"),
            "failed": tr("The payment failed"),
            "cancelled": tr("Top-up cancelled"),
        }.get(topup.status, tr("The top-up needs the cash desk"))
        self.added.text = tr("Nothing was charged for {amount}.", amount=amount) \
            if topup.status in ("expired", "failed", "cancelled") else ""
        self.details.text = tr(
            "If you paid anyway, the payment is credited to your account when it arrives."
        ) if topup.status == "expired" else tr(
            "Quote code {code} at the cash desk.", code=topup.short_code
        ) if topup.status not in ("failed", "cancelled") else ""
