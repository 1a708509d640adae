"""The kiosk's screens. Each renders a :class:`terminal.session.SessionView` and nothing else.

Screens never call the backend or a driver: a button calls the terminal's session
controller, and the new state comes back through :meth:`render`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from kiosk.i18n import LANGUAGES, Translator
from kiosk.job_screens import JobListPanel
from kiosk.keypad import BACKSPACE, Keypad
from kiosk.widgets import DANGER, MUTED, Backdrop, text, touch_button
from terminal.ports import Balance
from terminal.session import SessionController, SessionState, SessionView

BALANCE_ROWS = ("Virtual credit", "Personal credit", "Held for printing", "Available")


class IdleScreen(Screen):
    """Waiting for a card: instructions, language choice, errors, and the demo card entry."""

    def __init__(
        self,
        session: SessionController,
        tr: Translator,
        printer_name: str,
        terminal_name: str,
        demo_cards: list[tuple[str, str]],
        typed_card: Any,
        on_language: Any,
        on_pin_login: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(name="idle", **kwargs)
        self._session = session
        self._tr = tr
        self._printer_name = printer_name
        self._demo_cards = demo_cards
        self._typed_card = typed_card
        root = Backdrop()
        self.heading = text(34, bold=True)
        self.subtitle = text(18, color=MUTED, size_hint_y=None, height=dp(32))
        self.status = text(22, color=DANGER, size_hint_y=None, height=dp(56))
        self.where = text(16, color=MUTED, size_hint_y=None, height=dp(28))
        self.where.text = terminal_name
        languages = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.language_buttons = {}
        for code, label in LANGUAGES.items():
            button = touch_button(label)
            button.bind(on_release=lambda _b, c=code: on_language(c))
            languages.add_widget(button)
            self.language_buttons[code] = button
        self.pin_button = touch_button()
        self.pin_button.bind(on_release=lambda *_: on_pin_login())
        root.add_widget(self.heading)
        root.add_widget(self.subtitle)
        root.add_widget(self.status)
        root.add_widget(self.pin_button)
        if typed_card is not None:
            self.demo_hint = text(16, color=MUTED, size_hint_y=None, height=dp(56))
            entry = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
            self.card_input = TextInput(multiline=False, font_size=dp(24), input_filter="int")
            self.card_input.bind(on_text_validate=lambda *_: self._present_typed())
            self.present_button = touch_button(size_hint_x=0.35)
            self.present_button.bind(on_release=lambda *_: self._present_typed())
            entry.add_widget(self.card_input)
            entry.add_widget(self.present_button)
            root.add_widget(self.demo_hint)
            root.add_widget(entry)
        root.add_widget(languages)
        root.add_widget(self.where)
        self.add_widget(root)
        self.retranslate()

    def _present_typed(self) -> None:
        number = self.card_input.text.strip()
        self.card_input.text = ""
        self._typed_card(number)

    def retranslate(self) -> None:
        tr = self._tr
        self.heading.text = tr("Present your card to the reader")
        self.subtitle.text = tr("or log in with your username and PIN")
        self.pin_button.text = tr("Log in with username and PIN")
        self.where.text = f"{self.where.text.split(' · ')[0]} · " + tr(
            "Printer: {printer}", printer=self._printer_name
        )
        if self._typed_card is not None:
            cards = "   ".join(f"{number} {name}" for number, name in self._demo_cards)
            self.demo_hint.text = tr("Simulated card reader — type a card number") + (
                "\n" + tr("Demo cards:") + "  " + cards if cards else ""
            )
            self.card_input.hint_text = tr("Card number")
            self.present_button.text = tr("Present")

    def render(self, view: SessionView) -> None:
        if view.state is SessionState.IDENTIFYING:
            self.status.color = MUTED
            self.status.text = self._tr("One moment…")
        elif view.error:
            self.status.color = DANGER
            self.status.text = self._tr.error(view.error)
        else:
            self.status.text = ""


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
        **kwargs: Any,
    ) -> None:
        super().__init__(name="home", **kwargs)
        self._session = session
        self._tr = tr
        root = Backdrop(spacing=dp(8))
        top = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.greeting = text(28, bold=True)
        self.greeting.halign = "left"
        self.logout_button = touch_button(colour=DANGER, size_hint_x=0.3)
        self.logout_button.bind(on_release=lambda *_: self._session.logout())
        top.add_widget(self.greeting)
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
        if on_open_job is not None and on_print_all is not None:
            self.jobs = JobListPanel(tr, on_open_job, on_print_all)
            root.add_widget(self.jobs)
        else:
            root.add_widget(Widget())
        root.add_widget(self.countdown)
        self.add_widget(root)
        self._view = SessionView(SessionState.IDLE)
        self._balance: Balance | None = None

    def retranslate(self) -> None:
        self.render(self._view)
        if self.jobs is not None and self.jobs.jobs is not None:
            self.jobs.show(self.jobs.jobs)

    def set_balance(self, balance: Balance | None) -> None:
        """A newer balance than the session's (after a hold or a charge); None forgets it."""
        self._balance = balance
        self.render(self._view)

    def render(self, view: SessionView) -> None:
        self._view = view
        tr = self._tr
        self.logout_button.text = tr("Log out")
        identity = view.identity
        if identity is None:
            self._balance = None
            self.greeting.text = ""
            for caption, amount in self.rows.values():
                caption.text = amount.text = ""
            self.countdown.text = ""
            if self.jobs is not None:
                self.jobs.clear()
            return
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
    """Username + PIN on the on-screen keyboard, for users without their card."""

    def __init__(self, session: SessionController, tr: Translator, on_cancel: Any, **kwargs: Any):
        super().__init__(name="pin", **kwargs)
        self._session = session
        self._tr = tr
        self._on_cancel = on_cancel
        self.username = ""
        self.pin = ""
        self.field = "username"
        root = Backdrop(padding=dp(16), spacing=dp(8))
        self.heading = text(26, bold=True, size_hint_y=None, height=dp(44))
        fields = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.username_box = touch_button(colour=MUTED)
        self.username_box.bind(on_release=lambda *_: self._select("username"))
        self.pin_box = touch_button(colour=MUTED)
        self.pin_box.bind(on_release=lambda *_: self._select("pin"))
        fields.add_widget(self.username_box)
        fields.add_widget(self.pin_box)
        self.status = text(20, color=DANGER, size_hint_y=None, height=dp(36))
        self.keypad = Keypad(self._key)
        actions = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.cancel_button = touch_button(colour=DANGER)
        self.cancel_button.bind(on_release=lambda *_: self.cancel())
        self.login_button = touch_button()
        self.login_button.bind(on_release=lambda *_: self.submit())
        actions.add_widget(self.cancel_button)
        actions.add_widget(self.login_button)
        for widget in (self.heading, fields, self.status, self.keypad, actions):
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
        self._session.login_with_pin(username, pin)

    def _refresh(self) -> None:
        tr = self._tr
        marker = "▸ "
        self.username_box.text = (marker if self.field == "username" else "") + (
            self.username or tr("Username")
        )
        self.pin_box.text = (marker if self.field == "pin" else "") + (
            "•" * len(self.pin) if self.pin else tr("PIN")
        )

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
            self.status.color = DANGER
            self.status.text = self._tr.error(view.error)
