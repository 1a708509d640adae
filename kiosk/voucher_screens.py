"""Add credit, and its first way: redeeming a voucher card.

*Add credit* lists the ways to add credit as one button each (a voucher; the QR top-up
of issue 14, :mod:`kiosk.topup_screens`, when the app offers it). The voucher
screen is a keyboard of the voucher alphabet only (32 keys, no I, L, O or U), so no key
can produce a character a code cannot hold. The field shows the code grouped by four as
it is typed, and the line under it judges it live with the code's own check character:
"check the code" appears before any request, and *Redeem* is enabled only for a code
that is well formed. What a physical keyboard, an ungrabbed keyboard-wedge scanner or a
grabbed 2D scanner sends lands in the same field (:meth:`VoucherScreen.type_text`,
:meth:`VoucherScreen.take_scan`): typed text may carry the batch prefix and dashes,
which the assessment drops.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from kivy.core.window import Keyboard, Window
from kivy.metrics import dp, sp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.i18n import Translator
from kiosk.keypad import BACKSPACE, KEY_HEIGHT, KEY_SPACING, SYMBOL_FONT
from kiosk.widgets import (
    ACCENT,
    DANGER,
    DANGER_TEXT,
    DARK_TEXT,
    MUTED,
    OK,
    OK_TEXT,
    TEXT,
    Backdrop,
    text,
    touch_button,
)
from terminal.ports import Redemption, VoucherCredit, VoucherRefusal
from terminal.receipts import Receipt
from terminal.vouchers import ALPHABET, Assessment, assess

BODY_LENGTH = 14  # what the on-screen keyboard lets one type: the code without prefix
CLEAR = "clear"
# the 32 characters in alphabet order, ten to a row; clear and backspace after Y and Z
VOUCHER_ROWS = tuple(ALPHABET[start:start + 10] for start in range(0, len(ALPHABET), 10))
VOUCHER_KEYPAD_HEIGHT = dp(KEY_HEIGHT) * len(VOUCHER_ROWS) \
    + dp(KEY_SPACING) * (len(VOUCHER_ROWS) - 1)
CODE_FONT = "RobotoMono-Regular"  # shipped with Kivy: 0 and O, 1 and I never alike
FIELD_HINT = (0.45, 0.49, 0.56, 1)  # the placeholder, grey on the white field
MAX_TYPED = 64  # a scan or a typist's text is judged on its last 14 characters anyway


class VoucherKeypad(BoxLayout):
    """The voucher alphabet as touch-sized keys; ``on_key`` gets a character, CLEAR or
    BACKSPACE."""

    def __init__(self, on_key: Callable[[str], None], **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("spacing", dp(KEY_SPACING))
        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("height", VOUCHER_KEYPAD_HEIGHT)
        super().__init__(**kwargs)
        self.keys: dict[str, Any] = {}
        for index, row in enumerate(VOUCHER_ROWS):
            line = BoxLayout(spacing=dp(KEY_SPACING))
            for char in row:
                line.add_widget(self._key(char, char, on_key))
            if index == len(VOUCHER_ROWS) - 1:
                width = (10 - len(row)) / 2
                line.add_widget(self._key(CLEAR, "", on_key, DANGER, size_hint_x=width))
                line.add_widget(self._key(BACKSPACE, BACKSPACE, on_key, DANGER,
                                          size_hint_x=width))
            self.add_widget(line)

    def _key(self, key: str, caption: str, on_key: Callable[[str], None],
             colour: Any = MUTED, **kwargs: Any) -> Any:
        button = touch_button(caption, colour=colour, size_hint_y=1, **kwargs)
        button.font_name = {BACKSPACE: SYMBOL_FONT, CLEAR: "Roboto"}.get(key, CODE_FONT)
        button.font_size = sp(26)
        if colour is MUTED:
            button.color = DARK_TEXT
        button.bind(on_release=lambda *_: on_key(key))
        self.keys[key] = button
        return button


def refusal_text(tr: Translator, refusal: VoucherRefusal) -> str:
    """What a refusal says, with its facts (when, until when, how long to wait)."""
    if refusal.code == "voucher_redeemed" and refusal.redeemed_at is not None:
        return tr("This voucher was already redeemed on {date}.",
                  date=tr.datetime(refusal.redeemed_at))
    if refusal.code == "voucher_expired" and refusal.expires_on is not None:
        return tr("This voucher expired on {date}.", date=tr.date(refusal.expires_on))
    if refusal.code == "voucher_rate_limited" and refusal.retry_after_s is not None:
        minutes = max(1, math.ceil(refusal.retry_after_s / 60))
        return tr.plural("Too many attempts: try again in {minutes} minute.",
                         "Too many attempts: try again in {minutes} minutes.",
                         minutes, minutes=minutes)
    return tr.error(refusal.code)


def voucher_receipt(tr: Translator, credit: VoucherCredit, kiosk: str, at: dt.datetime
                    ) -> Receipt:
    """The receipt of a redemption, in the session's language. The code itself is not on
    it: the batch and serial name the voucher without repeating a bearer secret."""
    balance = credit.balance
    return Receipt(
        title=tr("Voucher redeemed"),
        lines=((tr("Credit added"), tr.money(credit.credited, credit.currency)),
               (tr("New balance"), tr.money(balance.available, balance.currency)),
               (tr("Voucher"), f"{credit.batch} {credit.serial}"),
               (tr("Date"), tr.datetime(at)),
               (tr("Kiosk"), kiosk)),
        footer=tr("Thank you"),
    )


class AddCreditScreen(Screen):
    """The ways to add credit, one button each; ``ways`` maps a way to its button."""

    def __init__(self, tr: Translator, on_voucher: Callable[[], None],
                 on_back: Callable[[], None], on_topup: Callable[[], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name="credit", **kwargs)
        self._tr = tr
        root = Backdrop(spacing=dp(12))
        self.heading = text(28, bold=True, size_hint_y=None, height=dp(48))
        self.caption = text(18, color=MUTED, size_hint_y=None, height=dp(28))
        self.ways: dict[str, Any] = {}
        self.voucher_button = touch_button(colour=OK, height=dp(80))
        self.voucher_button.bind(on_release=lambda *_: on_voucher())
        self.ways["voucher"] = self.voucher_button
        self.topup_button = touch_button(colour=ACCENT, height=dp(80))
        if on_topup is not None:
            self.topup_button.bind(on_release=lambda *_: on_topup())
            self.ways["topup"] = self.topup_button
        self.back_button = touch_button(colour=MUTED)
        self.back_button.color = DARK_TEXT
        self.back_button.bind(on_release=lambda *_: on_back())
        for widget in (self.heading, self.caption, *self.ways.values(), Widget(),
                       self.back_button):
            root.add_widget(widget)
        self.add_widget(root)
        self.retranslate()

    def retranslate(self) -> None:
        tr = self._tr
        self.heading.text = tr("Add credit")
        self.caption.text = tr("Choose how to add credit to your account:")
        self.voucher_button.text = tr("Redeem a voucher")
        self.topup_button.text = tr("Top up by phone (QR code)")
        self.back_button.text = tr("Back")


class VoucherScreen(Screen):
    """Type or scan a voucher code; ``on_redeem(body)`` for a well-formed one.

    ``typed`` is the text as received (a scan's prefix and dashes included); the field
    shows :attr:`Assessment.shown` of it. A refusal is shown under the field until the
    code is changed, so the user can correct one character and try again.
    """

    def __init__(self, tr: Translator, on_redeem: Callable[[str], None],
                 on_back: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(name="voucher", **kwargs)
        self._tr = tr
        self._on_redeem = on_redeem
        self.typed = ""
        self.waiting = False
        self.refusal: VoucherRefusal | None = None
        self._keyboard: Keyboard | None = None
        root = Backdrop(padding=dp(10), spacing=dp(6))
        self.heading = text(22, bold=True, size_hint_y=None, height=dp(30))
        top = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(8))
        self.back_button = touch_button(colour=MUTED, size_hint_x=0.5)
        self.back_button.color = DARK_TEXT
        self.back_button.bind(on_release=lambda *_: on_back())
        self.field = touch_button(colour=TEXT, size_hint_x=2.1)
        self.field.font_name = CODE_FONT
        self.field.font_size = sp(30)
        self.field.color = DARK_TEXT
        self.field.background_disabled_normal = ""
        self.field.disabled_color = DARK_TEXT
        self.field.disabled = True  # a display, not a target
        self.redeem_button = touch_button(colour=OK, size_hint_x=0.8)
        self.redeem_button.background_disabled_normal = ""
        self.redeem_button.bind(on_release=lambda *_: self.submit())
        for widget in (self.back_button, self.field, self.redeem_button):
            top.add_widget(widget)
        self.status = text(18, size_hint_y=None, height=dp(44))
        self.keypad = VoucherKeypad(self._key)
        for widget in (self.heading, top, self.status, Widget(), self.keypad):
            root.add_widget(widget)
        self.add_widget(root)
        self.retranslate()

    def on_enter(self, *_args: Any) -> None:
        # SDL sends typed text (``on_textinput``) only while text input is on, which Kivy
        # turns on for a focused TextInput. This screen has none, so without this request
        # a physical keyboard or an ungrabbed scanner would type nothing here.
        self._keyboard = Window.request_keyboard(self._keyboard_released, self, "text")

    def on_leave(self, *_args: Any) -> None:
        if self._keyboard is not None:
            self._keyboard.release()

    def _keyboard_released(self) -> None:
        self._keyboard = None

    @property
    def assessment(self) -> Assessment:
        return assess(self.typed)

    def clear(self) -> None:
        """Forget the code (logout, or a new visit to the screen)."""
        self.typed = ""
        self.waiting = False
        self.refusal = None
        self._refresh()

    def _key(self, key: str) -> None:
        body = self.assessment.body
        if key == CLEAR:
            self._set("")
        elif key == BACKSPACE:
            self._set(body[:-1])
        elif len(body) < BODY_LENGTH:
            self._set(body + key)

    def type_text(self, chars: str) -> None:
        """Characters from a physical keyboard (or an ungrabbed scanner typing)."""
        self._set((self.typed + chars)[-MAX_TYPED:])

    def backspace(self) -> None:
        self._key(BACKSPACE)

    def take_scan(self, scanned: str) -> None:
        """A grabbed scanner's read replaces the field (a QR holds the whole code)."""
        self._set(scanned.strip()[-MAX_TYPED:])

    def _set(self, typed: str) -> None:
        if self.waiting:
            return  # the code being redeemed stays as it was sent
        self.typed = typed
        self.refusal = None
        self._refresh()

    def submit(self) -> None:
        judged = self.assessment
        if self.waiting or judged.status != "valid":
            return
        self.waiting = True
        self._refresh()
        self._on_redeem(judged.body)

    def answered(self, answer: Redemption) -> None:
        """The backend's answer to the code sent: a refusal stays shown here."""
        self.waiting = False
        if isinstance(answer, VoucherRefusal):
            self.refusal = answer
        self._refresh()

    def _refresh(self) -> None:
        tr = self._tr
        judged = self.assessment
        self.field.text = judged.shown or tr("Code on the card")
        self.field.font_name = CODE_FONT if judged.shown else "Roboto"
        # the field is disabled (a display, not a target): its colour is the disabled one
        self.field.disabled_color = DARK_TEXT if judged.shown else FIELD_HINT
        colour, message = self._state(judged)
        self.status.color = colour
        self.status.text = message
        self.redeem_button.disabled = self.waiting or judged.status != "valid"
        self.redeem_button.background_color = OK if not self.redeem_button.disabled \
            else (0.3, 0.36, 0.33, 1)

    def _state(self, judged: Assessment) -> tuple[tuple[float, ...], str]:
        tr = self._tr
        if self.waiting:
            return MUTED, tr("One moment…")
        if self.refusal is not None:
            return DANGER_TEXT, refusal_text(tr, self.refusal)
        if judged.status == "typo":
            return DANGER_TEXT, tr("Check the code: a character is wrong.")
        if judged.status == "invalid_character":
            return DANGER_TEXT, tr("Check the code: “{char}” is not used in voucher codes.",
                                   char=judged.invalid)
        if judged.status == "valid":
            return OK_TEXT, tr("The code looks right: tap Redeem.")
        if judged.status == "incomplete":
            return MUTED, tr("{count} of {total} characters", count=len(judged.body),
                             total=BODY_LENGTH)
        return MUTED, tr("Type the code printed on your voucher card, or scan its QR code.")

    def retranslate(self) -> None:
        tr = self._tr
        self.heading.text = tr("Redeem a voucher")
        self.back_button.text = tr("Back")
        self.redeem_button.text = tr("Redeem")
        self.keypad.keys[CLEAR].text = tr("Clear")
        self._refresh()


class VoucherResultScreen(Screen):
    """The credit added and the balance after it; a receipt on request when the kiosk
    has a receipt printer (``on_receipt`` given)."""

    def __init__(self, tr: Translator, on_done: Callable[[], None],
                 on_receipt: Callable[[VoucherCredit], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name="voucher_result", **kwargs)
        self._tr = tr
        self._on_receipt = on_receipt
        self.credit: VoucherCredit | None = None
        root = Backdrop(spacing=dp(12))
        self.heading = text(30, bold=True, color=OK_TEXT, size_hint_y=None, height=dp(52))
        self.added = text(26, bold=True, size_hint_y=None, height=dp(44))
        self.balance = text(22, size_hint_y=None, height=dp(36))
        self.details = text(17, color=MUTED, size_hint_y=None, height=dp(28))
        self.receipt_status = text(17, color=MUTED, size_hint_y=None, height=dp(28))
        actions = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.receipt_button = touch_button(colour=ACCENT)
        self.receipt_button.bind(on_release=lambda *_: self._receipt())
        self.done_button = touch_button(colour=OK)
        self.done_button.bind(on_release=lambda *_: on_done())
        if on_receipt is not None:
            actions.add_widget(self.receipt_button)
        actions.add_widget(self.done_button)
        for widget in (self.heading, self.added, self.balance, self.details,
                       self.receipt_status, Widget(), actions):
            root.add_widget(widget)
        self.add_widget(root)

    def show(self, credit: VoucherCredit) -> None:
        self.credit = credit
        self.receipt_status.text = ""
        self.receipt_button.disabled = False
        self.retranslate()

    def clear(self) -> None:
        self.credit = None
        for label in (self.added, self.balance, self.details, self.receipt_status):
            label.text = ""

    def receipt_done(self, problem: str | None) -> None:
        """The receipt printed (None) or why not (a reason fit to show)."""
        tr = self._tr
        self.receipt_button.disabled = False
        if problem is None:
            self.receipt_status.color, self.receipt_status.text = OK_TEXT, tr("Receipt printed.")
        else:
            self.receipt_status.color = DANGER_TEXT
            self.receipt_status.text = tr("The receipt could not be printed: {reason}",
                                          reason=problem)

    def _receipt(self) -> None:
        if self.credit is not None and self._on_receipt is not None:
            tr = self._tr
            self.receipt_button.disabled = True
            self.receipt_status.color = MUTED
            self.receipt_status.text = tr("Printing the receipt…")
            self._on_receipt(self.credit)

    def retranslate(self) -> None:
        tr = self._tr
        self.heading.text = tr("Credit added")
        self.receipt_button.text = tr("Print receipt")
        self.done_button.text = tr("Done")
        credit = self.credit
        if credit is None:
            return
        self.added.text = tr("{amount} added to your account",
                             amount=tr.money(credit.credited, credit.currency))
        self.balance.text = tr("New balance: {amount}", amount=tr.money(
            credit.balance.available, credit.balance.currency))
        self.details.text = tr("Voucher {batch} no. {serial}", batch=credit.batch,
                               serial=credit.serial)
