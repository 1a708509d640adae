"""The technician's settings: the grouped list with current values, and the editor of
one setting by touch alone (a list of choices, - and + steppers, On/Off).

A text or secret setting is typed on the text-entry screen instead (it needs the whole
keyboard). Saving goes through the caller: a refusal comes back here with the
validators' own lines, and the value shown is still the file's.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView

from kiosk.i18n import Translator
from kiosk.technician_screens import panel_button
from kiosk.widgets import (
    ACCENT,
    DANGER_TEXT,
    DARK_TEXT,
    MUTED,
    OK,
    TEXT,
    Backdrop,
    text,
    touch_button,
)
from terminal.technician_types import SettingSpec, SettingValue

GROUPS = {"printer": "Printer", "snmp": "SNMP", "backend": "Backend", "terminal": "Terminal",
          "offline": "Offline", "card_reader": "Card reader"}
TRUE = "true"
FALSE = "false"


def shown_value(tr: Translator, setting: SettingValue) -> str:
    """A value as the list shows it: secrets as set / not set, toggles as On / Off."""
    kind, value = setting.spec.kind, setting.value
    if kind == "secret":
        return tr("set") if value else tr("not set")
    if kind == "toggle":
        return tr("On") if value == TRUE else tr("Off")
    return value if value else tr("(none)")


class SettingsScreen(Screen):
    """Every setting under its group, each a button showing its current value."""

    def __init__(self, tr: Translator, on_edit: Callable[[SettingValue], None],
                 on_back: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(name="technician_settings", **kwargs)
        self._tr = tr
        self._on_edit = on_edit
        self.settings: list[SettingValue] | None = None
        self.buttons: dict[str, Any] = {}
        self._problem = ""
        root = Backdrop(padding=dp(10), spacing=dp(8))
        top = BoxLayout(size_hint_y=None, height=dp(56), spacing=dp(8))
        self.back_button = touch_button(colour=MUTED, size_hint_x=0.3, height=dp(56))
        self.back_button.color = DARK_TEXT
        self.back_button.bind(on_release=lambda *_: on_back())
        self.heading = text(24, bold=True)
        top.add_widget(self.back_button)
        top.add_widget(self.heading)
        self.rows = GridLayout(cols=1, spacing=dp(6), size_hint_y=None)
        self.rows.bind(minimum_height=self.rows.setter("height"))
        scroll = ScrollView(do_scroll_x=False)
        scroll.add_widget(self.rows)
        self.scroll = scroll
        root.add_widget(top)
        root.add_widget(scroll)
        self.add_widget(root)
        self.retranslate()

    def show(self, settings: list[SettingValue] | None, problem: str = "") -> None:
        """The desk's list (None: still loading), or the problem that kept it away."""
        self.settings = settings
        self._problem = problem
        self.retranslate()

    def retranslate(self) -> None:
        tr = self._tr
        self.back_button.text = tr("Back")
        self.heading.text = tr("Settings")
        self.rows.clear_widgets()
        self.buttons.clear()
        if self.settings is None:
            self.rows.add_widget(text(18, color=DANGER_TEXT if self._problem else MUTED,
                                      size_hint_y=None, height=dp(60),
                                      text=self._problem or tr("One moment…")))
            return
        group = None
        for setting in self.settings:
            if setting.spec.group != group:
                group = setting.spec.group
                self.rows.add_widget(text(18, bold=True, color=MUTED, size_hint_y=None,
                                          height=dp(32),
                                          text=tr(GROUPS.get(group, group))))
            button = panel_button(f"{tr(setting.spec.label)}:  {shown_value(tr, setting)}",
                                  colour=(0.2, 0.24, 0.3, 1), height=dp(56))
            button.halign = "left"
            button.bind(on_release=lambda *_, s=setting: self._on_edit(s))
            self.buttons[setting.spec.key] = button
            self.rows.add_widget(button)


class SettingEditScreen(Screen):
    """One choice, number or toggle setting: pick, step or switch, then Save."""

    def __init__(self, tr: Translator, on_save: Callable[[str, str], None],
                 on_cancel: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(name="technician_edit", **kwargs)
        self._tr = tr
        self._on_save = on_save
        self.setting: SettingValue | None = None
        self.value = ""
        self.choices: list[str] | None = None
        self.choice_buttons: dict[str, Any] = {}
        self._problems: tuple[str, ...] = ()
        root = Backdrop(padding=dp(12), spacing=dp(8))
        self.heading = text(24, bold=True, size_hint_y=None, height=dp(40))
        self.help = text(16, color=MUTED, size_hint_y=None, height=dp(44))
        self.editor = BoxLayout(orientation="vertical")
        self.status = text(16, color=DANGER_TEXT, size_hint_y=None, height=dp(64))
        row = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.cancel_button = touch_button(colour=MUTED)
        self.cancel_button.color = DARK_TEXT
        self.cancel_button.bind(on_release=lambda *_: on_cancel())
        self.save_button = touch_button(colour=OK)
        self.save_button.bind(on_release=lambda *_: self.save())
        row.add_widget(self.cancel_button)
        row.add_widget(self.save_button)
        for widget in (self.heading, self.help, self.editor, self.status, row):
            root.add_widget(widget)
        self.add_widget(root)
        # the number editor's parts, kept to update the value in place
        self.minus_button = touch_button("-", colour=MUTED, size_hint_x=0.3, height=dp(80))
        self.plus_button = touch_button("+", colour=MUTED, size_hint_x=0.3, height=dp(80))
        self.number = text(36, bold=True, size_hint_y=None, height=dp(80))
        self.minus_button.bind(on_release=lambda *_: self.step(-1))
        self.plus_button.bind(on_release=lambda *_: self.step(+1))
        self.on_button = touch_button(colour=MUTED, height=dp(80))
        self.off_button = touch_button(colour=MUTED, height=dp(80))
        self.on_button.bind(on_release=lambda *_: self.pick(TRUE))
        self.off_button.bind(on_release=lambda *_: self.pick(FALSE))

    def open(self, setting: SettingValue, choices: list[str] | None = None) -> None:
        """Edit ``setting``; a dynamic choice gets its ``choices`` later (:meth:`offer`)."""
        self.setting = setting
        self.value = setting.value
        self._problems = ()
        spec = setting.spec
        self.choices = list(spec.choices) if spec.choices and not spec.dynamic else choices
        self.retranslate()

    def offer(self, choices: list[str]) -> None:
        """The dynamic choices, as the desk found them (the CUPS server's queues)."""
        self.choices = choices
        self.retranslate()

    def refused(self, problems: tuple[str, ...] | list[str]) -> None:
        self._problems = tuple(problems)
        self.retranslate()

    def pick(self, value: str) -> None:
        self.value = value
        self._problems = ()
        self.retranslate()

    def step(self, direction: int) -> None:
        spec = self._spec()
        try:
            current = Decimal(self.value or "0")
        except InvalidOperation:
            current = Decimal(str(spec.minimum or 0))
        moved = current + Decimal(str(spec.step or 1)) * direction
        if spec.minimum is not None:
            moved = max(moved, Decimal(str(spec.minimum)))
        if spec.maximum is not None:
            moved = min(moved, Decimal(str(spec.maximum)))
        self.pick(format(moved.normalize(), "f"))

    def save(self) -> None:
        if self.setting is not None:
            self._on_save(self.setting.spec.key, self.value)

    def _spec(self) -> SettingSpec:
        if self.setting is None:
            raise RuntimeError("no setting is being edited")
        return self.setting.spec

    def retranslate(self) -> None:
        tr = self._tr
        self.cancel_button.text = tr("Cancel")
        self.save_button.text = tr("Save")
        self.status.text = "\n".join(self._problems)
        self.editor.clear_widgets()
        if self.setting is None:
            return
        spec = self.setting.spec
        self.heading.text = tr(spec.label)
        now = shown_value(tr, self.setting)
        self.help.text = (tr(spec.help) + "  " if spec.help else "") + tr(
            "Now: {value}", value=now)
        if spec.kind == "number":
            self._number_editor()
        elif spec.kind == "toggle":
            self._toggle_editor()
        else:
            self._choice_editor()

    def _number_editor(self) -> None:
        row = BoxLayout(size_hint_y=None, height=dp(80), spacing=dp(12))
        self.number.text = self.value
        for widget in (self.minus_button, self.number, self.plus_button):
            if widget.parent is not None:
                widget.parent.remove_widget(widget)
            row.add_widget(widget)
        self.editor.add_widget(row)

    def _toggle_editor(self) -> None:
        tr = self._tr
        row = BoxLayout(size_hint_y=None, height=dp(80), spacing=dp(12))
        for button, value, caption in ((self.off_button, FALSE, tr("Off")),
                                       (self.on_button, TRUE, tr("On"))):
            if button.parent is not None:
                button.parent.remove_widget(button)
            button.text = caption
            chosen = self.value == value
            button.background_color = ACCENT if chosen else MUTED
            button.color = TEXT if chosen else DARK_TEXT
            row.add_widget(button)
        self.editor.add_widget(row)

    def _choice_editor(self) -> None:
        tr = self._tr
        self.choice_buttons.clear()
        if self.choices is None:
            self.editor.add_widget(text(18, color=MUTED, text=tr("One moment…")))
            return
        if not self.choices:
            self.editor.add_widget(text(18, color=DANGER_TEXT, text=tr("Nothing to choose from.")))
            return
        grid = GridLayout(cols=3, spacing=dp(8), size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        for choice in self.choices:
            chosen = choice == self.value
            button = panel_button(choice or tr("(none)"), colour=ACCENT if chosen else MUTED)
            button.color = TEXT if chosen else DARK_TEXT
            button.bind(on_release=lambda *_, c=choice: self.pick(c))
            self.choice_buttons[choice] = button
            grid.add_widget(button)
        scroll = ScrollView(do_scroll_x=False)
        scroll.add_widget(grid)
        self.editor.add_widget(scroll)

