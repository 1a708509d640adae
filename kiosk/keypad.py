"""An on-screen keyboard of large keys, so the kiosk needs no physical keyboard.

Kivy's own VKeyboard follows a focused TextInput around and its keys are small on a
7-inch panel; a fixed grid of touch-sized buttons is predictable for users and for tests
(each key is a real Button a test can tap).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout

from kiosk.widgets import DANGER, MUTED, touch_button

LETTER_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl.", "zxcvbnm-_@")
BACKSPACE = "⌫"
SYMBOL_FONT = "DejaVuSans"  # shipped with Kivy; Roboto has no ⌫ glyph
KEY_HEIGHT = 64  # about 10 mm on a 7-inch 800x480 panel
KEY_SPACING = 6
# The whole keypad at its touch-sized height: screens give it this much and no less.
KEYPAD_HEIGHT = dp(KEY_HEIGHT) * len(LETTER_ROWS) + dp(KEY_SPACING) * (len(LETTER_ROWS) - 1)


class Keypad(BoxLayout):
    """Rows of keys; ``on_key`` receives the character, or BACKSPACE."""

    def __init__(self, on_key: Callable[[str], None], **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("spacing", dp(KEY_SPACING))
        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("height", KEYPAD_HEIGHT)
        super().__init__(**kwargs)
        self.keys: dict[str, Any] = {}
        rows = LETTER_ROWS
        for index, row in enumerate(rows):
            line = BoxLayout(spacing=dp(KEY_SPACING))
            for char in row:
                line.add_widget(self._key(char, on_key))
            if index == len(rows) - 1:
                line.add_widget(self._key(BACKSPACE, on_key, colour=DANGER))
            self.add_widget(line)

    def _key(self, char: str, on_key: Callable[[str], None], colour: Any = MUTED) -> Any:
        button = touch_button(char, colour=colour, size_hint_y=1)
        if char == BACKSPACE:
            button.font_name = SYMBOL_FONT
        button.color = (0.05, 0.06, 0.08, 1) if colour is MUTED else button.color
        button.bind(on_release=lambda *_: on_key(char))
        self.keys[char] = button
        return button


AMOUNT_ROWS = ("123", "456", "789", ",0" + BACKSPACE)


class AmountKeypad(BoxLayout):
    """Digits, the decimal separator and backspace, phone-style: for typing an amount."""

    def __init__(self, on_key: Callable[[str], None], **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("spacing", dp(KEY_SPACING))
        super().__init__(**kwargs)
        self.keys: dict[str, Any] = {}
        for row in AMOUNT_ROWS:
            line = BoxLayout(spacing=dp(KEY_SPACING))
            for char in row:
                button = touch_button(char, colour=DANGER if char == BACKSPACE else MUTED,
                                      size_hint_y=1)
                button.font_name = SYMBOL_FONT if char == BACKSPACE else button.font_name
                if char != BACKSPACE:
                    button.color = (0.05, 0.06, 0.08, 1)
                button.bind(on_release=lambda *_, key=char: on_key(key))
                self.keys[char] = button
                line.add_widget(button)
            self.add_widget(line)


TEXT_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl:", "zxcvbnm./-", "_@~+=")
SHIFT = "⇧"
SPACE = " "
TEXT_KEY_HEIGHT = 50  # five rows and the field above fit a 480 px high panel


class TextKeyboard(BoxLayout):
    """A fuller keyboard for a technician's values: upper case (``SHIFT``), the
    characters of URLs and paths, and a space; ``on_key`` receives the character (in
    the case shown), or BACKSPACE. An enrolment key is mixed-case base64url, so the
    user keypad's lower-case letters are not enough."""

    def __init__(self, on_key: Callable[[str], None], **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("spacing", dp(KEY_SPACING))
        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("height", dp(TEXT_KEY_HEIGHT) * len(TEXT_ROWS)
                          + dp(KEY_SPACING) * (len(TEXT_ROWS) - 1))
        super().__init__(**kwargs)
        self._on_key = on_key
        self.upper = False
        self.keys: dict[str, Any] = {}
        for index, row in enumerate(TEXT_ROWS):
            line = BoxLayout(spacing=dp(KEY_SPACING))
            chars = list(row)
            if index == len(TEXT_ROWS) - 1:
                chars = [SHIFT, *chars, SPACE, BACKSPACE]
            for char in chars:
                line.add_widget(self._key(char))
            self.add_widget(line)

    def _key(self, char: str) -> Any:
        special = char in (SHIFT, BACKSPACE)
        button = touch_button(char, colour=DANGER if char == BACKSPACE else MUTED,
                              size_hint_y=1, size_hint_x=2 if char == SPACE else 1)
        if special:
            button.font_name = SYMBOL_FONT
        if char != BACKSPACE:
            button.color = (0.05, 0.06, 0.08, 1)
        button.bind(on_release=lambda *_: self._press(char))
        self.keys[char] = button
        return button

    def _press(self, char: str) -> None:
        if char == SHIFT:
            self.upper = not self.upper
            for key, button in self.keys.items():
                if key.isalpha() and len(key) == 1:
                    button.text = key.upper() if self.upper else key
            return
        self._on_key(char.upper() if self.upper and char.isalpha() else char)
