"""The technician's checks screen: a column of checks, and the chosen one's findings.

Each finding is rendered from the desk's answer by a small function here (rows of
label and value, supply levels as bars), so a language switch re-renders the same
answer. What the buttons do is the caller's (:mod:`kiosk.technician_mode`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kivy.graphics import Color, Rectangle
from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.i18n import Translator
from kiosk.technician_screens import panel_button
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
)
from terminal.technician_types import (
    BackendCheck,
    CardCheck,
    OutboxStatus,
    SnmpProbe,
    SupplyLevel,
    TestPageResult,
)

CHECKS = (("card", "Card reader"), ("snmp", "SNMP probe"), ("test_page", "Test page"),
          ("backend", "Backend"), ("outbox", "Outbox"), ("logs", "Logs"),
          ("restart", "Restart"), ("enrolment", "Enrolment"))
ROW = 30  # dp: one line of findings
Action = tuple[str, Callable[[], None], tuple[float, ...]]


def line(words: str, colour: tuple[float, ...] = TEXT, size: float = 17,
         bold: bool = False) -> Label:
    label = text(size, color=colour, bold=bold, size_hint_y=None, height=dp(ROW),
                 text=words)
    label.halign = "left"
    return label


def pair(caption: str, value: str, colour: tuple[float, ...] = TEXT) -> Widget:
    row = BoxLayout(size_hint_y=None, height=dp(ROW), spacing=dp(8))
    left = line(caption, MUTED)
    left.size_hint_x = 0.45
    row.add_widget(left)
    row.add_widget(line(value, colour))
    return row


class LevelBar(Widget):
    """A supply's level: the filled part coloured by its state, the rest dark."""

    def __init__(self, percent: int | None, state: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.percent = percent
        fill = DANGER if state in ("low", "empty") else OK
        with self.canvas:
            Color(0.25, 0.28, 0.33, 1)
            self._back = Rectangle()
            Color(*(fill if percent is not None else WARNING))
            self._fill = Rectangle()
        self.bind(pos=self._draw, size=self._draw)

    def _draw(self, *_: object) -> None:
        inset = dp(6)
        x, y = self.x, self.y + inset
        width, height = self.width, max(self.height - 2 * inset, 0)
        self._back.pos, self._back.size = (x, y), (width, height)
        share = (self.percent if self.percent is not None else 100) / 100
        self._fill.pos, self._fill.size = (x, y), (width * share, height)


def supply_row(tr: Translator, supply: SupplyLevel) -> Widget:
    row = BoxLayout(size_hint_y=None, height=dp(ROW), spacing=dp(8))
    name = line(supply.name)
    name.size_hint_x = 0.35
    level = line(tr("unknown") if supply.percent is None else f"{supply.percent} %",
                 DANGER_TEXT if supply.state in ("low", "empty") else TEXT)
    level.size_hint_x = 0.2
    row.add_widget(name)
    row.add_widget(LevelBar(supply.percent, supply.state))
    row.add_widget(level)
    return row


def snmp_rows(tr: Translator, probe: SnmpProbe) -> list[Widget]:
    rows: list[Widget] = [pair(tr("Printer address"), probe.host or tr("(none)"))]
    if probe.code is not None:
        rows.append(line(tr.error(probe.code), DANGER_TEXT))
        if probe.detail:
            rows.append(line(probe.detail, MUTED, size=15))
        return rows
    rows.append(pair(tr("Status"), probe.status or tr("unknown")))
    rows.append(line(tr("Page counters"), MUTED, bold=True))
    rows += [pair(name, str(count)) for name, count in probe.counters]
    rows.append(line(tr("Supplies"), MUTED, bold=True))
    rows += [supply_row(tr, supply) for supply in probe.supplies]
    rows.append(line(tr("Alerts"), MUTED, bold=True))
    rows += [line(alert, DANGER_TEXT) for alert in probe.alerts] or [line(tr("none"), OK_TEXT)]
    return rows


def _yes_no(tr: Translator, value: bool | None) -> tuple[str, tuple[float, ...]]:
    if value is None:
        return tr("cannot tell"), MUTED
    return (tr("yes"), OK_TEXT) if value else (tr("no"), DANGER_TEXT)


def backend_rows(tr: Translator, check: BackendCheck) -> list[Widget]:
    reachable, colour = _yes_no(tr, check.reachable)
    token, token_colour = _yes_no(tr, check.token_valid)
    rows: list[Widget] = [pair(tr("Address"), check.url), pair(tr("Reachable"), reachable, colour)]
    if check.latency_ms is not None:
        rows.append(pair(tr("Latency"), f"{check.latency_ms:.0f} ms"))
    if check.clock_skew_s is not None:
        rows.append(pair(tr("Clock skew"), f"{check.clock_skew_s:+.1f} s",
                         DANGER_TEXT if abs(check.clock_skew_s) > 30 else TEXT))
    rows.append(pair(tr("Terminal token valid"), token, token_colour))
    if check.terminal_name:
        rows.append(pair(tr("Known as"), check.terminal_name))
    if check.detail:
        rows.append(line(check.detail, MUTED, size=15))
    return rows


def outbox_rows(tr: Translator, status: OutboxStatus) -> list[Widget]:
    rows: list[Widget] = [pair(tr("Pending entries"), str(status.pending),
                               DANGER_TEXT if status.pending else OK_TEXT)]
    rows.append(pair(tr("Oldest"), tr.datetime(status.oldest_at) if status.oldest_at
                     else tr("none")))
    rows.append(pair(tr("Last drain"), tr.datetime(status.last_drain_at)
                     if status.last_drain_at else tr("not yet")))
    if status.last_error:
        rows.append(pair(tr("Last error"), status.last_error, DANGER_TEXT))
    return rows


def test_page_rows(tr: Translator, result: TestPageResult) -> list[Widget]:
    if result.code is not None:
        rows = [line(tr.error(result.code), DANGER_TEXT)]
        return rows + ([line(result.detail, MUTED, size=15)] if result.detail else [])
    return [line(tr("Test page sent to queue {queue} (job {job}); not charged.",
                    queue=result.queue, job=result.job_id), OK_TEXT)]


def card_rows(tr: Translator, cards: Sequence[CardCheck], pairs: int | None) -> list[Widget]:
    """The cards badged so far; with ``pairs`` set, how far the derivation is."""
    rows: list[Widget] = [line(tr("Badge a card on the reader."), MUTED)]
    if pairs is not None:
        rows.append(line(tr("Deriving the normalisation: card {n} of 3.", n=min(pairs + 1, 3)),
                         WARNING))
    for card in cards:
        rows.append(pair(tr("Raw: {raw}", raw=card.raw),
                         tr("Normalised: {number}", number=card.normalised)
                         if card.error is None else card.error,
                         TEXT if card.error is None else DANGER_TEXT))
    return rows


def logs_rows(lines: Sequence[str]) -> list[Widget]:
    """The log lines in one label as tall as its text (one texture, scrolled)."""
    label = Label(text="\n".join(lines) or "—", font_size=dp(13), color=TEXT,
                  halign="left", valign="top", size_hint_y=None)
    label.bind(width=lambda widget, width: setattr(widget, "text_size", (width, None)),
               texture_size=lambda widget, size: setattr(widget, "height", size[1]))
    return [label]


class ChecksScreen(Screen):
    """The checks on the left, the chosen one's findings and its actions on the right."""

    def __init__(self, tr: Translator, on_check: Callable[[str], None],
                 on_back: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(name="technician_checks", **kwargs)
        self._tr = tr
        self.current = ""
        self._render: Callable[[], tuple[list[Widget], list[Action]]] = lambda: ([], [])
        root = Backdrop(orientation="horizontal", padding=dp(10), spacing=dp(10))
        # the column fills the height: every check in view without scrolling (on an
        # 800x480 panel a button is about 46 dp high)
        column = BoxLayout(orientation="vertical", spacing=dp(6), size_hint_x=0.28)
        self.back_button = panel_button(colour=MUTED, size_hint_y=1)
        self.back_button.color = DARK_TEXT
        self.back_button.bind(on_release=lambda *_: on_back())
        column.add_widget(self.back_button)
        self.check_buttons: dict[str, Any] = {}
        for key, _caption in CHECKS:
            button = panel_button(colour=ACCENT, size_hint_y=1)
            button.bind(on_release=lambda *_, k=key: on_check(k))
            self.check_buttons[key] = button
            column.add_widget(button)
        left = column
        right = BoxLayout(orientation="vertical", spacing=dp(8))
        self.heading = text(22, bold=True, size_hint_y=None, height=dp(36))
        self.rows = GridLayout(cols=1, spacing=dp(2), size_hint_y=None)
        self.rows.bind(minimum_height=self.rows.setter("height"))
        self.findings = ScrollView(do_scroll_x=False)
        self.findings.add_widget(self.rows)
        self.actions = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(10))
        for widget in (self.heading, self.findings, self.actions):
            right.add_widget(widget)
        root.add_widget(left)
        root.add_widget(right)
        self.add_widget(root)
        self.action_buttons: dict[str, Any] = {}
        self.retranslate()

    def show(self, check: str,
             render: Callable[[], tuple[list[Widget], list[Action]]]) -> None:
        """Show ``check``'s findings: ``render()`` builds the rows and actions (again on a
        language switch)."""
        self.current = check
        self._render = render
        self.retranslate()

    def retranslate(self) -> None:
        tr = self._tr
        self.back_button.text = tr("Back")
        for key, caption in CHECKS:
            button = self.check_buttons[key]
            button.text = tr(caption)
            button.background_color = OK if key == self.current else ACCENT
        captions = dict(CHECKS)
        self.heading.text = tr(captions[self.current]) if self.current else tr("Checks")
        rows, actions = self._render()
        self.rows.clear_widgets()
        for row in rows:
            self.rows.add_widget(row)
        self.actions.clear_widgets()
        self.action_buttons.clear()
        for caption, act, colour in actions:
            button = panel_button(tr(caption), colour=colour)
            button.bind(on_release=lambda *_, a=act: a())
            self.action_buttons[caption] = button
            self.actions.add_widget(button)

