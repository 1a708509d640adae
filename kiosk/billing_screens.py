"""The billing-code picker shown before a release when the terminal asks for a code.

Recent codes come first, full screen, because most people charge the same project
again; "Search" opens the on-screen keypad and the list follows every key (prefix of
the code or of the name, as the backend matches). Each code shows where it sits in the
client -> project hierarchy ("ACME Corp › Website redesign") with the code itself
below. "No code" is offered only when the configuration makes the code optional.
A code its client pays (``payer == "code"``) says so on its button, before the release:
the user's balance is not used for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.metrics import dp, sp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView

from kiosk.i18n import Translator
from kiosk.keypad import BACKSPACE, KEYPAD_HEIGHT, Keypad
from kiosk.widgets import ACCENT, DANGER_TEXT, DARK_TEXT, MUTED, Backdrop, text, touch_button
from terminal.jobs import JobQuote
from terminal.ports import BillingCode

CODE_ROW_HEIGHT = 72  # two lines (hierarchy, code) in a target well above 9 mm
HIERARCHY_SEPARATOR = " › "


def code_label(tr: Translator, code: BillingCode) -> str:
    """Two lines: the client -> project path in bold, then the code to recognise it by
    (and, for a code its client pays, that the user's balance is not used)."""
    second = code.code
    if code.payer == "code":
        second = tr("{code} — {client} pays, not you", code=code.code,
                    client=code.path[0])
    return f"[b]{HIERARCHY_SEPARATOR.join(code.path)}[/b]\n{second}"


class BillingCodeScreen(Screen):
    """Pick the code the next release is charged to; ``on_choose(quotes, code or None)``."""

    def __init__(
        self,
        tr: Translator,
        on_look: Callable[[str], None],
        on_choose: Callable[[list[JobQuote], BillingCode | None], None],
        on_back: Callable[[], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(name="billing", **kwargs)
        self._tr = tr
        self._on_look = on_look
        self._on_choose = on_choose
        self.quotes: list[JobQuote] = []
        self.optional = False
        self.query = ""
        self.searching = False
        self.codes: list[BillingCode] = []
        self._problem: str | None = None
        self._loading = False
        root = Backdrop(padding=dp(10), spacing=dp(6))
        top = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(8))
        self.back_button = touch_button(colour=MUTED, size_hint_x=0.22)
        self.back_button.color = DARK_TEXT
        self.back_button.bind(on_release=lambda *_: on_back())
        self.search_box = touch_button(colour=ACCENT)
        self.search_box.bind(on_release=lambda *_: self.open_keypad())
        self.no_code_button = touch_button(colour=MUTED, size_hint_x=0.22)
        self.no_code_button.color = DARK_TEXT
        self.no_code_button.bind(on_release=lambda *_: self._choose(None))
        top.add_widget(self.back_button)
        top.add_widget(self.search_box)
        self.top_row = top
        self.caption = text(18, color=MUTED, size_hint_y=None, height=dp(28))
        self.caption.halign = "left"
        self.rows = GridLayout(cols=2, spacing=dp(6), size_hint_y=None)
        self.rows.bind(minimum_height=self.rows.setter("height"))
        scroller = ScrollView(do_scroll_x=False)
        scroller.add_widget(self.rows)
        self.keypad = Keypad(self._key, size_hint_y=None, height=0)
        self.code_buttons: dict[str, Any] = {}
        for widget in (top, self.caption, scroller, self.keypad):
            root.add_widget(widget)
        self.add_widget(root)
        self._show_keypad(False)

    # -- opening and closing -----------------------------------------------------------

    def open(self, quotes: list[JobQuote], optional: bool) -> None:
        """Start a pick for ``quotes``: recent codes first, keypad closed."""
        self.quotes = list(quotes)
        self.optional = optional
        self.query = ""
        self._show_keypad(False)
        self._loading = True
        self._problem = None
        self._show([])
        self._on_look("")

    def clear(self) -> None:
        """Forget the pick (logout): none of the previous user's codes stays behind."""
        self.quotes = []
        self.query = ""
        self._problem = None
        self._loading = False
        self._show_keypad(False)
        self._show([])

    # -- answers from the directory ----------------------------------------------------

    def show_codes(self, query: str, codes: list[BillingCode]) -> None:
        if query == self.query:
            self._loading = False
            self._problem = None
            self._show(codes)

    def show_problem(self, code: str) -> None:
        self._loading = False
        self._problem = code
        self._show([])

    # -- typing ------------------------------------------------------------------------

    def open_keypad(self) -> None:
        self._show_keypad(True)
        self.retranslate()

    def _show_keypad(self, shown: bool) -> None:
        self.searching = shown
        self.keypad.height = KEYPAD_HEIGHT if shown else 0
        self.keypad.opacity = 1 if shown else 0
        self.keypad.disabled = not shown

    def _offer_no_code(self, offered: bool) -> None:
        """"No code" takes its place in the top row only when the code is optional."""
        self.no_code_button.disabled = not offered
        if offered and self.no_code_button.parent is None:
            self.top_row.add_widget(self.no_code_button)
        elif not offered and self.no_code_button.parent is not None:
            self.top_row.remove_widget(self.no_code_button)

    def _key(self, char: str) -> None:
        query = self.query[:-1] if char == BACKSPACE else (self.query + char)[:64]
        if query == self.query:
            return
        self.query = query
        self._loading = True
        self.retranslate()
        self._on_look(query)

    def _choose(self, code: BillingCode | None) -> None:
        if code is None and not self.optional:
            return
        quotes = self.quotes
        self.clear()
        self._on_choose(quotes, code)

    # -- rendering -----------------------------------------------------------------------

    def _show(self, codes: list[BillingCode]) -> None:
        self.codes = list(codes)
        self.rows.clear_widgets()
        self.code_buttons = {}
        for code in codes:
            button = touch_button(code_label(self._tr, code), colour=ACCENT,
                                  height=dp(CODE_ROW_HEIGHT))
            button.markup = True
            button.font_size = sp(18)
            button.halign = "center"
            button.bind(size=lambda widget, size: setattr(
                widget, "text_size", (size[0] - dp(12), None)))
            button.bind(on_release=lambda *_b, c=code: self._choose(c))
            self.rows.add_widget(button)
            self.code_buttons[code.code] = button
        self.retranslate()

    def retranslate(self) -> None:
        tr = self._tr
        for code in self.codes:
            self.code_buttons[code.code].text = code_label(tr, code)
        self.back_button.text = tr("Back")
        self.no_code_button.text = tr("No code")
        self._offer_no_code(self.optional)
        if self.query:
            self.search_box.text = self.query + "_"  # the cursor: typing goes on here
        else:
            self.search_box.text = tr("Search a code or a name") if not self.searching \
                else tr("type a code or a name")
        self.caption.color = MUTED
        if self._problem is not None:
            self.caption.color = DANGER_TEXT
            self.caption.text = tr.error(self._problem)
        elif self._loading:
            self.caption.text = tr("Looking for billing codes…")
        elif self.query and not self.codes:
            self.caption.text = tr("No billing code starts with “{query}”", query=self.query)
        elif self.query:
            self.caption.text = tr("Billing codes starting with “{query}”", query=self.query)
        elif self.codes:
            self.caption.text = tr("Charge to: your recent billing codes")
        else:
            self.caption.text = tr("No recent billing code: search for one")
