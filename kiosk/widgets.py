"""Touch-sized building blocks shared by the screens.

Targets are at least 64 dp high (about 10 mm on a 7-inch 800x480 panel) and text is
light on a dark background for contrast in a bright print room.
"""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Rectangle
from kivy.metrics import dp, sp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label

BACKGROUND = (0.09, 0.11, 0.15, 1)
ACCENT = (0.16, 0.47, 0.85, 1)
DANGER = (0.75, 0.22, 0.2, 1)
TEXT = (0.96, 0.97, 0.98, 1)
MUTED = (0.7, 0.74, 0.8, 1)
OK = (0.16, 0.56, 0.32, 1)
OK_TEXT = (0.45, 0.85, 0.55, 1)  # green text on the dark background
DANGER_TEXT = (1.0, 0.5, 0.45, 1)  # red text on the dark background
DARK_TEXT = (0.05, 0.06, 0.08, 1)  # on MUTED (light) buttons
WARNING = (0.96, 0.7, 0.15, 1)  # amber: the offline banner


class Backdrop(BoxLayout):
    """A vertical layout painted with the kiosk background."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("padding", dp(24))
        kwargs.setdefault("spacing", dp(12))
        super().__init__(**kwargs)
        with self.canvas.before:
            Color(*BACKGROUND)
            self._rect = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._repaint, size=self._repaint)

    def _repaint(self, *_: object) -> None:
        self._rect.pos = self.pos
        self._rect.size = self.size


def text(size: float = 20, color: tuple[float, ...] = TEXT, **kwargs: Any) -> Label:
    label = Label(font_size=sp(size), color=color, halign="center", valign="middle", **kwargs)
    label.bind(size=lambda widget, value: setattr(widget, "text_size", value))
    return label


def touch_button(caption: str = "", colour: tuple[float, ...] = ACCENT, **kwargs: Any) -> Button:
    kwargs.setdefault("size_hint_y", None)
    kwargs.setdefault("height", dp(64))
    return Button(
        text=caption,
        font_size=sp(22),
        background_normal="",
        background_color=colour,
        color=TEXT,
        **kwargs,
    )


class Banner(Label):
    """A full-width strip of dark text on amber above every screen; no height when hidden."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("size_hint", (1, None))
        kwargs.setdefault("height", 0)
        super().__init__(font_size=sp(17), color=DARK_TEXT, halign="center", **kwargs)
        self.bind(size=lambda widget, value: setattr(widget, "text_size", value))
        with self.canvas.before:
            self._colour = Color(*WARNING)
            self._rect = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._repaint, size=self._repaint)

    def _repaint(self, *_: object) -> None:
        self._rect.pos = self.pos
        self._rect.size = self.size

    def show(self, message: str | None) -> None:
        """Show ``message``, or hide the banner (no space, no colour) when it is None."""
        self.text = message or ""
        self.opacity = 1 if message else 0
        self.height = dp(36) if message else 0


class LanguageSwitch(BoxLayout):
    """One button per language, the one spoken now marked (bright, and not tappable).

    ``labels`` maps a language code to what its button says ("Français", or "FR" where
    space is short); ``on_choose(code)`` is called for a tap on another language.
    """

    def __init__(self, labels: dict[str, str], on_choose: Any, **kwargs: Any) -> None:
        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("height", dp(64))
        kwargs.setdefault("spacing", dp(6))
        super().__init__(**kwargs)
        self.buttons: dict[str, Button] = {}
        self.current: str | None = None
        for code, label in labels.items():
            button = touch_button(label, colour=MUTED)
            button.bind(on_release=lambda _b, c=code: on_choose(c))
            self.add_widget(button)
            self.buttons[code] = button

    def mark(self, language: str) -> None:
        """Show ``language`` as the current one."""
        self.current = language
        for code, button in self.buttons.items():
            current = code == language
            button.background_color = ACCENT if current else MUTED
            button.color = TEXT if current else DARK_TEXT
            button.bold = current
            button.disabled = current
            button.background_disabled_normal = ""  # a disabled (current) button keeps colour
            button.disabled_color = TEXT
