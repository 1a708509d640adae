"""The kiosk's screens. Each renders a :class:`terminal.session.SessionView` and nothing else.

Screens never call the backend or a driver: a button calls the terminal's session
controller, and the new state comes back through :meth:`render`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.metrics import dp, sp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from kiosk.i18n import LANGUAGES, Translator
from kiosk.job_screens import JobListPanel
from kiosk.keypad import BACKSPACE, Keypad
from kiosk.widgets import (
    DANGER,
    DANGER_TEXT,
    DARK_TEXT,
    MUTED,
    OK,
    TEXT,
    Backdrop,
    LanguageSwitch,
    text,
    touch_button,
)
from terminal.ports import Balance, DemoCard
from terminal.session import SessionController, SessionState, SessionView

FIELD_IDLE = (0.36, 0.4, 0.47, 1)  # a field the keypad is not typing into
BALANCE_ROWS = ("Virtual credit", "Personal credit", "Held for printing", "Available")


class IdleScreen(Screen):
    """Waiting for a card: instructions, language choice, errors, and the demo card entry."""

    def __init__(
        self,
        session: SessionController,
        tr: Translator,
        printer_name: str,
        terminal_name: str,
        demo_cards: list[DemoCard],
        typed_card: Any,
        on_language: Any,
        on_pin_login: Any,
        on_enrol: Any = None,
        demo_vouchers: Callable[[], list[str]] | None = None,
        on_technician: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name="idle", **kwargs)
        self._session = session
        self._tr = tr
        self._printer_name = printer_name
        self._demo_cards = demo_cards
        self._demo_vouchers = demo_vouchers
        self._typed_card = typed_card
        # what the printer is doing, for a 3D kiosk ("printing 42 %", "ready"); "" else
        self.printer_state = ""
        root = Backdrop(padding=dp(16), spacing=dp(8))  # fits 800x480 with the demo entry
        self.heading = text(34, bold=True)
        self.subtitle = text(18, color=MUTED, size_hint_y=None, height=dp(28))
        self.status = text(22, color=DANGER_TEXT, size_hint_y=None, height=dp(32))
        self.where = text(16, color=MUTED, size_hint_y=None, height=dp(24))
        self.where.text = terminal_name
        languages = LanguageSwitch(LANGUAGES, on_language, spacing=dp(12))
        self.languages = languages
        self.language_buttons = languages.buttons
        self.pin_button = touch_button()
        self.pin_button.bind(on_release=lambda *_: on_pin_login())
        # Beside the PIN login, only after an unknown card: same row, no extra height.
        self.enrol_button = touch_button(colour=OK)
        self.enrol_button.bind(on_release=lambda *_: on_enrol())
        self.login_row = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.login_row.add_widget(self.pin_button)
        self.enrol_offered = False
        root.add_widget(self.heading)
        root.add_widget(self.subtitle)
        root.add_widget(self.status)
        root.add_widget(self.login_row)
        if typed_card is not None:
            # up to four lines (reader, cards, PIN logins, vouchers): a Label clipped to
            # its height drops the last line, so only the width is fixed and the lines
            # are centred in it
            lines = 4 if self._demo_vouchers is not None else 3
            self.demo_hint = Label(font_size=sp(16), color=MUTED, halign="center",
                                   size_hint_y=None, height=dp(21) * lines + dp(1))
            self.demo_hint.bind(size=lambda label, size: setattr(
                label, "text_size", (size[0], None)))
            entry = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
            self.card_input = TextInput(multiline=False, font_size=dp(24), input_filter="int")
            self.card_input.bind(on_text_validate=lambda *_: self._present_typed())
            self.present_button = touch_button(size_hint_x=0.35)
            self.present_button.bind(on_release=lambda *_: self._present_typed())
            entry.add_widget(self.card_input)
            entry.add_widget(self.present_button)
            root.add_widget(self.demo_hint)
            root.add_widget(entry)
        # Technician mode: a small button beside the languages, no extra height
        self.technician_button = touch_button(colour=(0.25, 0.28, 0.33, 1), size_hint_x=0.3)
        self.technician_button.font_size = sp(16)
        if on_technician is not None:
            self.technician_button.bind(on_release=lambda *_: on_technician())
            bottom = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
            bottom.add_widget(languages)
            bottom.add_widget(self.technician_button)
            root.add_widget(bottom)
        else:
            root.add_widget(languages)
        root.add_widget(self.where)
        self.add_widget(root)
        self.retranslate()

    def _present_typed(self) -> None:
        number = self.card_input.text.strip()
        self.card_input.text = ""
        self._typed_card(number)

    def on_pre_enter(self, *_args: Any) -> None:
        if self._demo_vouchers is not None:
            self.retranslate()  # the demo's vouchers still redeemable, asked again

    def retranslate(self) -> None:
        tr = self._tr
        self.languages.mark(tr.language)
        self.heading.text = tr("Present your card to the reader")
        self.subtitle.text = tr("or log in with your username and PIN")
        self.pin_button.text = tr("Log in with username and PIN")
        self.technician_button.text = tr("Technician")
        self.enrol_button.text = tr("Associate this card with my account")
        self.where.text = f"{self.where.text.split(' · ')[0]} · " + tr(
            "Printer: {printer}", printer=self._printer_name
        ) + (f" · {self.printer_state}" if self.printer_state else "")
        if self._typed_card is not None:
            lines = [tr("Simulated card reader — type a card number")]
            cards = " · ".join(f"{card.number} {card.name}" for card in self._demo_cards)
            if cards:
                lines.append(tr("Demo cards:") + "  " + cards)
            pins = " · ".join(f"{card.username} {card.pin}" for card in self._demo_cards
                              if card.username and card.pin)
            if pins:  # the demo's PIN logins, where the demo user looks first
                lines.append(tr("Username and PIN:") + "  " + pins)
            codes = self._demo_vouchers() if self._demo_vouchers is not None else []
            if codes:  # to redeem under Add credit once logged in
                lines.append(tr("Demo vouchers:") + "  " + " · ".join(codes))
            self.demo_hint.text = "\n".join(lines)
            self.card_input.hint_text = tr("Card number")
            self.present_button.text = tr("Present")

    def show_printer_state(self, state: str) -> None:
        """The 3D printer's state, beside its name (already translated)."""
        if state != self.printer_state:
            self.printer_state = state
            self.retranslate()

    def render(self, view: SessionView) -> None:
        if view.state is SessionState.IDENTIFYING:
            self.status.color = MUTED
            self.status.text = self._tr("One moment…")
        elif view.error and view.enrol_card_hint is not None:
            self.status.color = DANGER_TEXT
            tr = self._tr
            self.status.text = tr(
                "This card is not known yet: you can associate it with your account.")
        elif view.error:
            self.status.color = DANGER_TEXT
            self.status.text = self._tr.error(view.error)
        else:
            self.status.text = ""
        self.offer_enrolment(view.enrol_card_hint is not None
                             and view.state is SessionState.IDLE)

    def offer_enrolment(self, offered: bool) -> None:
        if offered is self.enrol_offered:
            return
        self.enrol_offered = offered
        if offered:
            self.login_row.add_widget(self.enrol_button)
        else:
            self.login_row.remove_widget(self.enrol_button)


class HomeScreen(Screen):
    """The identified user: name, each credit apart, held jobs with prices, logout.

    The balance shown is the one the session identified with until a release brings a
    newer one (credit held while printing, then the amount after the charge).
    """

    def __init__(
        self,
        session: SessionController,
        tr: Translator,
        on_open_job: Callable[[int], None] | None = None,
        on_print_all: Callable[[], None] | None = None,
        on_add_credit: Callable[[], None] | None = None,
        panel: Widget | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name="home", **kwargs)
        self._session = session
        self._tr = tr
        root = Backdrop(spacing=dp(8))
        top = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.greeting = text(28, bold=True)
        self.greeting.halign = "left"
        self.logout_button = touch_button(colour=DANGER, size_hint_x=0.36)
        self.logout_button.font_size = sp(20)
        self.logout_button.bind(on_release=lambda *_: self._session.logout())
        # the language spoken now, marked; a tap on the other switches this session only
        self.languages = LanguageSwitch({code: code.upper() for code in LANGUAGES},
                                        session.set_language, size_hint_x=0.22)
        # Add credit: the ways to add credit (a voucher today), beside the greeting. With
        # it the row is full at 800 px: both captions wrap to two lines rather than spill
        # ("Ajouter du crédit", "Se déconnecter"), and the greeting gives up some width.
        self.add_credit_button = touch_button(colour=OK, size_hint_x=0.36)
        if on_add_credit is not None:
            self.greeting.size_hint_x = 0.8
            for button in (self.add_credit_button, self.logout_button):
                button.font_size = sp(18)
                button.halign = "center"
                button.bind(size=lambda b, size: setattr(b, "text_size", (size[0] - dp(8),
                                                                           None)))
        if on_add_credit is not None:
            self.add_credit_button.bind(on_release=lambda *_: on_add_credit())
        top.add_widget(self.greeting)
        if on_add_credit is not None:
            top.add_widget(self.add_credit_button)
        top.add_widget(self.languages)
        top.add_widget(self.logout_button)
        self.balances = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(8))
        self.rows: dict[str, tuple[Any, Any]] = {}
        for key in BALANCE_ROWS:
            cell = BoxLayout(orientation="vertical")
            caption, amount = text(16, color=MUTED), text(22, bold=True)
            cell.add_widget(caption)
            cell.add_widget(amount)
            self.balances.add_widget(cell)
            self.rows[key] = (caption, amount)
        self.countdown = text(18, color=DANGER, size_hint_y=None, height=dp(28))
        root.add_widget(top)
        root.add_widget(self.balances)
        self.jobs: JobListPanel | None = None
        # A kiosk the terminal could not give a job list (no print queue, no prices)
        # says so, instead of an empty screen the user would wait in front of.
        self.no_jobs = text(20, color=DANGER_TEXT)
        # a 3D kiosk's list of 3D jobs, in the place of the held print jobs
        self.panel = panel
        if on_open_job is not None and on_print_all is not None:
            self.jobs = JobListPanel(tr, on_open_job, on_print_all)
            root.add_widget(self.jobs)
        elif panel is not None:
            root.add_widget(panel)
        else:
            root.add_widget(self.no_jobs)
        root.add_widget(self.countdown)
        self.add_widget(root)
        self._view = SessionView(SessionState.IDLE)
        self._balance: Balance | None = None

    def retranslate(self) -> None:
        self.render(self._view)
        if self.jobs is not None:
            self.jobs.retranslate()

    def set_balance(self, balance: Balance | None) -> None:
        """A newer balance than the session's (after a hold or a charge); None forgets it."""
        self._balance = balance
        self.render(self._view)

    def render(self, view: SessionView) -> None:
        self._view = view
        tr = self._tr
        self.languages.mark(tr.language)
        self.logout_button.text = tr("Log out")
        self.add_credit_button.text = tr("Add credit")
        identity = view.identity
        if identity is None:
            self._balance = None
            self.greeting.text = ""
            for caption, amount in self.rows.values():
                caption.text = amount.text = ""
            self.countdown.text = ""
            self.no_jobs.text = ""
            if self.jobs is not None:
                self.jobs.clear()
            return
        if self.jobs is None and self.panel is None:
            self.no_jobs.text = tr("This kiosk cannot list or price print jobs: tell the staff.")
        self.greeting.text = tr("Hello, {name}", name=identity.display_name)
        balance = self._balance or identity.balance
        values = {
            "Virtual credit": balance.virtual_credit,
            "Personal credit": balance.personal_credit,
            "Held for printing": balance.held,
            "Available": balance.available,
        }
        for key, (caption, amount) in self.rows.items():
            caption.text = tr(key)
            amount.text = tr.money(values[key], balance.currency)
        if view.seconds_left is not None:
            self.countdown.text = tr(
                "Logging out in {seconds} s — touch the screen to stay", seconds=view.seconds_left
            )
        elif view.offline and view.balance_age_s is not None:
            # the balance is the one last confirmed by the backend: say how old it is
            self.countdown.text = tr(
                "Offline: balance as last confirmed {minutes} min ago",
                minutes=int(view.balance_age_s // 60),
            )
        else:
            self.countdown.text = ""


class PinScreen(Screen):
    """Username + PIN on the on-screen keyboard, for users without their card.

    One row holds Cancel, the two fields and the action, so that the keypad keeps its
    touch-sized keys even on an 800x480 panel.
    """

    def __init__(self, session: SessionController, tr: Translator, on_cancel: Any,
                 name: str = "pin", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self._session = session
        self._tr = tr
        self._on_cancel = on_cancel
        self.username = ""
        self.pin = ""
        self.field = "username"
        root = Backdrop(padding=dp(10), spacing=dp(6))
        self.heading = text(24, bold=True, size_hint_y=None, height=dp(40))
        row = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(8))
        self.cancel_button = touch_button(colour=DANGER, size_hint_x=0.7)
        self.cancel_button.bind(on_release=lambda *_: self.cancel())
        self.username_box = touch_button(colour=MUTED)
        self.username_box.bind(on_release=lambda *_: self._select("username"))
        self.pin_box = touch_button(colour=MUTED, size_hint_x=0.7)
        self.pin_box.bind(on_release=lambda *_: self._select("pin"))
        self.login_button = touch_button(colour=OK)
        self.login_button.bind(on_release=lambda *_: self.submit())
        for button in (self.cancel_button, self.username_box, self.pin_box, self.login_button):
            row.add_widget(button)
        self.status = text(20, color=DANGER_TEXT, size_hint_y=None, height=dp(32))
        self.keypad = Keypad(self._key)
        for widget in (self.heading, self.status, row, Widget(), self.keypad):
            root.add_widget(widget)
        self.add_widget(root)
        self.retranslate()

    def _select(self, field: str) -> None:
        self.field = field
        self._refresh()

    def _key(self, char: str) -> None:
        value = self.username if self.field == "username" else self.pin
        value = value[:-1] if char == BACKSPACE else (value + char)[:64]
        if self.field == "username":
            self.username = value
        else:
            self.pin = value
        self._refresh()

    def clear(self) -> None:
        self.username = self.pin = ""
        self.field = "username"
        self.status.text = ""
        self._refresh()

    def cancel(self) -> None:
        self.clear()
        self._on_cancel()

    def submit(self) -> None:
        if not self.username:
            self._select("username")
            return
        if not self.pin:
            self._select("pin")
            return
        username, pin = self.username, self.pin
        self.pin = ""
        self._refresh()
        self.send(username, pin)

    def send(self, username: str, pin: str) -> None:
        """What the filled-in form does: log in."""
        self._session.login_with_pin(username, pin)

    def _refresh(self) -> None:
        tr = self._tr
        self.username_box.text = self.username or tr("Username")
        self.pin_box.text = "•" * len(self.pin) if self.pin else tr("PIN")
        # the field the keypad types into is the bright one (no glyph the font may lack)
        for field, box in (("username", self.username_box), ("pin", self.pin_box)):
            selected = field == self.field
            box.background_color = TEXT if selected else FIELD_IDLE
            box.color = DARK_TEXT if selected else TEXT

    def retranslate(self) -> None:
        tr = self._tr
        self.heading.text = tr("Log in with your username and PIN")
        self.cancel_button.text = tr("Cancel")
        self.login_button.text = tr("Log in")
        self._refresh()

    def render(self, view: SessionView) -> None:
        if view.state is SessionState.IDENTIFYING:
            self.status.color = MUTED
            self.status.text = self._tr("One moment…")
        elif view.error:
            self.status.color = DANGER_TEXT
            self.status.text = self._tr.error(view.error)


class EnrolScreen(PinScreen):
    """Associate the card just refused as unknown with the account of username + PIN.

    Only the masked card (``SessionView.enrol_card_hint``) is shown; the number itself
    stays in the session controller. A right PIN links the card and logs the user in.
    """

    def __init__(self, session: SessionController, tr: Translator, on_cancel: Any,
                 **kwargs: Any):
        self.card_hint = ""
        super().__init__(session, tr, on_cancel, name="enrol", **kwargs)

    def open(self, card_hint: str) -> None:
        self.clear()
        self.card_hint = card_hint
        self.retranslate()

    def cancel(self) -> None:
        self._session.cancel_enrolment()
        self.card_hint = ""
        super().cancel()

    def send(self, username: str, pin: str) -> None:
        self._session.enrol_card(username, pin)

    def render(self, view: SessionView) -> None:
        if view.enrol_card_hint is not None and view.enrol_card_hint != self.card_hint:
            self.card_hint = view.enrol_card_hint  # another unknown card was presented
            self.retranslate()
        super().render(view)

    def retranslate(self) -> None:
        super().retranslate()
        tr = self._tr
        self.heading.text = tr("Associate card {card} with your account", card=self.card_hint)
        self.login_button.text = tr("Associate")
