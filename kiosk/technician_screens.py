"""The technician's entry, home, confirmation and text-entry screens (touch only).

A technician may have no keyboard: every value is typed on the on-screen keyboard, and
every action that cannot be undone (restore the previous file, restart, reboot) asks
first. The screens render what the technician flow hands them and call back; they never
call the desk themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.i18n import LANGUAGES, Translator
from kiosk.keypad import BACKSPACE, TextKeyboard
from kiosk.screens import PinScreen
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
    LanguageSwitch,
    text,
    touch_button,
)
from terminal.session import SessionController, SessionState, SessionView
from terminal.technician_types import Technician

WAYS = {"card": "card", "pin": "username and PIN", "local_pin": "local PIN"}


class TechnicianLoginScreen(PinScreen):
    """Username + PIN of a technician account (the ordinary PIN login: the account's
    role makes it a technician session), or the kiosk's local PIN, which works when the
    backend cannot be reached."""

    def __init__(self, session: SessionController, tr: Translator, on_cancel: Any,
                 **kwargs: Any) -> None:
        self.local = False
        super().__init__(session, tr, on_cancel, name="technician_login", **kwargs)
        # beside the fields (a row of its own would push the keypad off an 800x480
        # panel under the offline banner, which is when the local PIN is needed)
        self.local_button = touch_button(colour=MUTED, size_hint_x=0.7)
        self.local_button.color = DARK_TEXT
        self.local_button.bind(on_release=lambda *_: self.use_local(not self.local))
        row = self.login_button.parent
        row.remove_widget(self.login_button)
        row.add_widget(self.local_button)
        row.add_widget(self.login_button)
        self.retranslate()

    def use_local(self, local: bool) -> None:
        """Switch between the account login and the local PIN (no username)."""
        self.local = local
        self.clear()
        if local:
            self._select("pin")
        self.retranslate()

    def clear(self) -> None:
        super().clear()
        if self.local:
            self.field = "pin"
            self._refresh()

    def _select(self, field: str) -> None:
        super()._select("pin" if self.local else field)

    def submit(self) -> None:
        self.status.text = ""  # a new attempt: the last one's answer is not this one's
        if self.local:
            if not self.pin:
                return
            pin, self.pin = self.pin, ""
            self._refresh()
            self._session.enter_local_technician(pin)
            return
        super().submit()

    def _refresh(self) -> None:
        super()._refresh()
        if self.local:
            self.username_box.text = self._tr("Local technician")
            self.username_box.background_color = (0.25, 0.28, 0.33, 1)
            self.username_box.color = MUTED

    def retranslate(self) -> None:
        super().retranslate()
        tr = self._tr
        self.heading.text = tr("Technician: local PIN") if self.local else tr(
            "Technician: username and PIN")
        if hasattr(self, "local_button"):
            self.local_button.text = tr("Account login") if self.local else tr("Local PIN")
        self.login_button.text = tr("Enter")

    def render(self, view: SessionView) -> None:
        if view.error == "pin_invalid" and self.local:
            self.status.color = DANGER_TEXT
            self.status.text = self._tr("Wrong local PIN.")
            return
        super().render(view)


class TechnicianHomeScreen(Screen):
    """Who is in, on which terminal; Settings, Checks, Restore previous, Log out; what
    the last change did (saved, applied, refused); the idle countdown as for users."""

    def __init__(self, tr: Translator, on_settings: Callable[[], None],
                 on_checks: Callable[[], None], on_restore: Callable[[], None],
                 on_logout: Callable[[], None], on_language: Callable[[str], None],
                 **kwargs: Any) -> None:
        super().__init__(name="technician", **kwargs)
        self._tr = tr
        self.terminal_name = ""
        self.technician: Technician | None = None
        self._status: tuple[str, dict[str, object], bool, tuple[str, ...]] | None = None
        self._view = SessionView(SessionState.IDLE)
        root = Backdrop(padding=dp(16), spacing=dp(10))
        self.heading = text(28, bold=True, size_hint_y=None, height=dp(44))
        self.who = text(18, color=MUTED)
        # this session's language, switched as on a user's home screen
        self.languages = LanguageSwitch({code: code.upper() for code in LANGUAGES},
                                        on_language, size_hint_x=0.22)
        who_row = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(10))
        who_row.add_widget(self.who)
        who_row.add_widget(self.languages)
        grid = BoxLayout(orientation="vertical", spacing=dp(10))
        first, second = (BoxLayout(spacing=dp(10)) for _ in range(2))
        self.settings_button = touch_button(size_hint_y=1)
        self.checks_button = touch_button(size_hint_y=1)
        self.restore_button = touch_button(colour=MUTED, size_hint_y=1)
        self.restore_button.color = DARK_TEXT
        self.logout_button = touch_button(colour=DANGER, size_hint_y=1)
        for button, action in ((self.settings_button, on_settings),
                               (self.checks_button, on_checks),
                               (self.restore_button, on_restore),
                               (self.logout_button, on_logout)):
            button.bind(on_release=lambda *_, act=action: act())
        first.add_widget(self.settings_button)
        first.add_widget(self.checks_button)
        second.add_widget(self.restore_button)
        second.add_widget(self.logout_button)
        grid.add_widget(first)
        grid.add_widget(second)
        self.status = text(18, size_hint_y=None, height=dp(84))
        self.countdown = text(18, color=DANGER, size_hint_y=None, height=dp(28))
        for widget in (self.heading, who_row, grid, self.status, self.countdown):
            root.add_widget(widget)
        self.add_widget(root)
        self.retranslate()

    def show(self, terminal_name: str, technician: Technician) -> None:
        self.terminal_name = terminal_name
        if technician != self.technician:
            self._status = None
        self.technician = technician
        self.retranslate()

    def say(self, message: str, ok: bool = True, lines: Sequence[str] = (),
            **values: object) -> None:
        """What the last change did: ``message`` an English msgid (translated now and
        again on a language switch), ``lines`` shown as they are (a validator's words,
        the changes as key: old -> new)."""
        self._status = (message, values, ok, tuple(lines))
        self.retranslate()

    def render(self, view: SessionView) -> None:
        self._view = view
        self.countdown.text = self._tr(
            "Logging out in {seconds} s — touch the screen to stay",
            seconds=view.seconds_left) if view.seconds_left is not None else ""

    def clear(self) -> None:
        self.technician = None
        self._status = None
        self.retranslate()

    def retranslate(self) -> None:
        tr = self._tr
        self.languages.mark(tr.language)
        self.heading.text = tr("Technician mode — {terminal}", terminal=self.terminal_name)
        who = self.technician
        self.who.text = "" if who is None else tr(
            "Signed in: {name} (by {way})", name=who.display_name, way=tr(WAYS[who.via]))
        self.settings_button.text = tr("Settings")
        self.checks_button.text = tr("Checks")
        self.restore_button.text = tr("Restore previous")
        self.logout_button.text = tr("Log out")
        if self._status is None:
            self.status.text = ""
        else:
            message, values, ok, lines = self._status
            self.status.text = "\n".join([tr(message, **values), *lines])
            self.status.color = OK_TEXT if ok else DANGER_TEXT
        self.render(self._view)


class ConfirmScreen(Screen):
    """"Are you sure?" before what cannot be undone: the question, Confirm and Cancel."""

    def __init__(self, tr: Translator, **kwargs: Any) -> None:
        super().__init__(name="technician_confirm", **kwargs)
        self._tr = tr
        self._question: tuple[str, dict[str, object]] = ("", {})
        self._on_yes: Callable[[], None] = lambda: None
        self._on_no: Callable[[], None] = lambda: None
        root = Backdrop()
        self.question = text(24, bold=True)
        row = BoxLayout(size_hint_y=None, height=dp(72), spacing=dp(16))
        self.no_button = touch_button(colour=MUTED, height=dp(72))
        self.no_button.color = DARK_TEXT
        self.yes_button = touch_button(colour=DANGER, height=dp(72))
        self.no_button.bind(on_release=lambda *_: self._on_no())
        self.yes_button.bind(on_release=lambda *_: self._on_yes())
        row.add_widget(self.no_button)
        row.add_widget(self.yes_button)
        root.add_widget(self.question)
        root.add_widget(row)
        self.add_widget(root)
        self.retranslate()

    def ask(self, question: str, on_yes: Callable[[], None], on_no: Callable[[], None],
            **values: object) -> None:
        self._question = (question, values)
        self._on_yes, self._on_no = on_yes, on_no
        self.retranslate()

    def retranslate(self) -> None:
        tr = self._tr
        message, values = self._question
        self.question.text = tr(message, **values) if message else ""
        self.no_button.text = tr("Cancel")
        self.yes_button.text = tr("Confirm")


class TextEntryScreen(Screen):
    """One value typed on the on-screen keyboard: a setting's text, the enrolment key,
    the number printed on a card. ``OK`` hands the text to the caller, who may answer
    with a problem (shown here, the text kept for correcting)."""

    def __init__(self, tr: Translator, **kwargs: Any) -> None:
        super().__init__(name="technician_text", **kwargs)
        self._tr = tr
        self.value = ""
        self.secret = False
        self._title: tuple[str, dict[str, object]] = ("", {})
        self._on_ok: Callable[[str], None] = lambda _v: None
        self._on_cancel: Callable[[], None] = lambda: None
        root = Backdrop(padding=dp(8), spacing=dp(6))
        self.heading = text(20, bold=True, size_hint_y=None, height=dp(30))
        row = BoxLayout(size_hint_y=None, height=dp(56), spacing=dp(8))
        self.cancel_button = touch_button(colour=DANGER, size_hint_x=0.25, height=dp(56))
        self.cancel_button.bind(on_release=lambda *_: self._on_cancel())
        self.field = touch_button(colour=TEXT, height=dp(56))
        self.field.color = DARK_TEXT
        self.field.font_size = dp(18)
        self.field.bind(size=lambda b, size: setattr(b, "text_size", (size[0] - dp(12), None)))
        self.field.halign = "left"
        self.field.shorten = True
        self.field.shorten_from = "left"  # the end just typed stays in view
        self.ok_button = touch_button(colour=OK, size_hint_x=0.25, height=dp(56))
        self.ok_button.bind(on_release=lambda *_: self.submit())
        row.add_widget(self.cancel_button)
        row.add_widget(self.field)
        row.add_widget(self.ok_button)
        self.status = text(15, color=DANGER_TEXT, size_hint_y=None, height=dp(48))
        self.keyboard = TextKeyboard(self._key)
        for widget in (self.heading, row, self.status, Widget(), self.keyboard):
            root.add_widget(widget)
        self.add_widget(root)

    def open(self, title: str, value: str, on_ok: Callable[[str], None],
             on_cancel: Callable[[], None], secret: bool = False, **values: object) -> None:
        self._title = (title, values)
        self.value = "" if secret else value
        self.secret = secret
        self._on_ok, self._on_cancel = on_ok, on_cancel
        self.status.text = ""
        self.retranslate()

    def problem(self, message: str) -> None:
        self.status.text = message

    def _key(self, char: str) -> None:
        self.value = self.value[:-1] if char == BACKSPACE else (self.value + char)[:200]
        self.status.text = ""
        self._show_value()

    def type_text(self, chars: str) -> None:
        """Characters from a physical keyboard, as if typed on the screen's."""
        for char in chars:
            if char.isprintable():
                self._key(char)

    def backspace(self) -> None:
        self._key(BACKSPACE)

    def submit(self) -> None:
        self._on_ok(self.value)

    def _show_value(self) -> None:
        self.field.text = "•" * len(self.value) if self.secret else self.value

    def retranslate(self) -> None:
        tr = self._tr
        title, values = self._title
        self.heading.text = tr(title, **values) if title else ""
        self.cancel_button.text = tr("Cancel")
        self.ok_button.text = tr("OK")
        self._show_value()


def panel_button(caption: str = "", colour: tuple[float, ...] = ACCENT, **kwargs: Any) -> Any:
    """A button whose caption wraps inside it (French captions are long)."""
    button = touch_button(caption, colour=colour, **kwargs)
    button.font_size = dp(18)
    button.halign = "center"
    button.bind(size=lambda b, size: setattr(b, "text_size", (size[0] - dp(8), None)))
    return button
