"""The 3D screens: the user's jobs on the home screen, the build-plate check, progress.

They render what :mod:`terminal.print3d` decided (jobs with their flags, release and
follow updates) and hand every tap back as a callback. Problems are stable keys from
the catalogue; a flag says its reason with the two facts it carries (what this printer
expects, what the file says). A print that is not the user's shows its progress only,
never whose it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.progressbar import ProgressBar
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.i18n import Translator
from kiosk.widgets import (
    DANGER,
    DANGER_TEXT,
    MUTED,
    OK,
    OK_TEXT,
    WARNING,
    Backdrop,
    text,
    touch_button,
)
from terminal.ports import Print3DFlag, Print3DJob
from terminal.print3d_values import Print3DUpdate, Stage3D

ROW_HEIGHT = 96


def duration(tr: Translator, seconds: int) -> str:
    if seconds < 60:
        return tr("under a minute")  # "0 min" reads as "done" to someone waiting
    minutes = round(seconds / 60)
    if minutes < 60:
        return tr("{minutes} min", minutes=minutes)
    return tr("{hours} h {minutes:02d} min", hours=minutes // 60, minutes=minutes % 60)


def figures(tr: Translator, job: Print3DJob) -> str:
    return tr("{grams} g · {metres} m · {time}", grams=tr.number(job.grams),
              metres=tr.number(job.metres), time=duration(tr, job.minutes * 60))


def flag_reason(tr: Translator, flag: Print3DFlag) -> str:
    """Why a job is flagged, in a sentence with the flag's two facts."""
    if flag.code == "printer_model_mismatch":
        return tr("Sliced for a {found}; this printer is a {expected}: slice it again.",
                  found=flag.found, expected=flag.expected)
    if flag.code == "material_not_loaded":
        return tr("Sliced for {found}; this printer has {expected} loaded.",
                  found=flag.found, expected=flag.expected)
    if flag.code == "figures_disagree":
        return tr(
            "The slicer says {found} of filament, our analysis {expected}: the price uses ours.",
            found=flag.found, expected=flag.expected)
    return tr.error(flag.code)


def busy_line(tr: Translator, update: Print3DUpdate, own: bool) -> str:
    """The printer's state while a print runs; ``own``: the user's own print."""
    percent = round(update.percent or 0)
    left = f" · {duration(tr, update.time_left_s)}" if update.time_left_s else ""
    if own:
        return tr("Your print {name}: {percent} %", name=update.name, percent=percent) + left
    return tr("The printer is busy: printing, {percent} %", percent=percent) + left


class Print3DListPanel(BoxLayout):
    """The home screen's list of 3D jobs: per job its name, figures, price and flags;
    a blocked job has no Print button, only its reason."""

    def __init__(self, tr: Translator, on_pick: Callable[[Print3DJob], None],
                 on_progress: Callable[[], None], **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("spacing", dp(8))
        super().__init__(**kwargs)
        self._tr = tr
        self._on_pick = on_pick
        self.status = text(20, color=MUTED, size_hint_y=None, height=dp(32))
        busy_row = BoxLayout(size_hint_y=None, height=dp(0), spacing=dp(8))
        self.busy = text(18, color=WARNING)
        self.progress_button = touch_button(size_hint_x=0.35)
        self.progress_button.bind(on_release=lambda *_: on_progress())
        busy_row.add_widget(self.busy)
        self.busy_row = busy_row
        self.rows = GridLayout(cols=1, spacing=dp(6), size_hint_y=None)
        self.rows.bind(minimum_height=self.rows.setter("height"))
        scroller = ScrollView(do_scroll_x=False)
        scroller.add_widget(self.rows)
        self.add_widget(self.status)
        self.add_widget(busy_row)
        self.add_widget(scroller)
        self.jobs: list[Print3DJob] | None = None
        self.print_buttons: dict[int, Any] = {}
        self.problem: str | None = None
        self._busy: tuple[Print3DUpdate, bool] | None = None

    def clear(self, status: str = "") -> None:
        self.jobs = None
        self.problem = None
        self.rows.clear_widgets()
        self.print_buttons = {}
        self.status.color, self.status.text = MUTED, status

    def show_problem(self, code: str) -> None:
        self.clear(self._tr.error(code))
        self.problem = code
        self.status.color, self.status.height = DANGER_TEXT, dp(72)

    def show(self, jobs: Sequence[Print3DJob]) -> None:
        self.clear()
        self.status.height = dp(32)
        self.jobs = list(jobs)
        tr = self._tr
        if not jobs:
            self.status.height = dp(56)  # two lines in French at 800 px
            self.status.text = tr(
                "You have no 3D jobs for this printer. Files uploaded for you appear here.")
        for job in jobs:
            self.rows.add_widget(self._row(job))

    def _row(self, job: Print3DJob) -> BoxLayout:
        tr = self._tr
        row = BoxLayout(size_hint_y=None, height=dp(ROW_HEIGHT), spacing=dp(8))
        words = BoxLayout(orientation="vertical")
        name = text(20, bold=True)
        name.text, name.halign = job.name, "left"
        facts = text(17, color=MUTED)
        facts.text, facts.halign = figures(tr, job), "left"
        words.add_widget(name)
        words.add_widget(facts)
        for flag in job.flags:
            reason = text(15, color=DANGER_TEXT if flag.blocks_release else WARNING)
            reason.text, reason.halign = flag_reason(tr, flag), "left"
            words.add_widget(reason)
        row.add_widget(words)
        price = text(22, bold=True, size_hint_x=0.25)
        price.text = tr.money(job.price, job.currency)
        row.add_widget(price)
        button = touch_button(colour=OK, size_hint_x=0.25)
        if job.status == "printing":
            button.text, button.disabled = tr("Printing"), True
        elif not job.releasable:
            button.text, button.disabled, button.background_color = tr("Blocked"), True, DANGER
        else:
            button.text = tr("Print")
            button.bind(on_release=lambda *_: self._on_pick(job))
        self.print_buttons[job.job_id] = button
        row.add_widget(button)
        return row

    def show_busy(self, update: Print3DUpdate | None, own: bool) -> None:
        """The print in progress on this printer (None: the printer is free)."""
        self._busy = None if update is None else (update, own)
        self.busy_row.height = dp(0) if update is None else dp(56)
        self.busy.text = "" if update is None else busy_line(self._tr, update, own)
        if own and update is not None:
            if self.progress_button.parent is None:
                self.busy_row.add_widget(self.progress_button)
        elif self.progress_button.parent is not None:
            self.busy_row.remove_widget(self.progress_button)
        self.progress_button.text = self._tr("Show progress")

    def retranslate(self) -> None:
        if self.problem is not None:
            self.show_problem(self.problem)
        elif self.jobs is not None:
            self.show(self.jobs)
        if self._busy is not None:
            self.show_busy(*self._busy)


class PlateScreen(Screen):
    """Before a release: is the build plate empty and clean? Yes prints, No goes back."""

    def __init__(self, tr: Translator, on_confirm: Callable[[Print3DJob], None],
                 on_back: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(name="print3d_plate", **kwargs)
        self._tr = tr
        self.job: Print3DJob | None = None
        root = Backdrop()
        self.question = text(30, bold=True)
        self.details = text(20, color=MUTED)
        self.hold = text(18, color=MUTED)
        row = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.back_button = touch_button(colour=DANGER)
        self.back_button.bind(on_release=lambda *_: on_back())
        self.confirm_button = touch_button(colour=OK)
        self.confirm_button.bind(
            on_release=lambda *_: on_confirm(self.job) if self.job is not None else None)
        row.add_widget(self.back_button)
        row.add_widget(self.confirm_button)
        for widget in (self.question, self.details, self.hold, Widget(), row):
            root.add_widget(widget)
        self.add_widget(root)

    def open(self, job: Print3DJob) -> None:
        self.job = job
        self.retranslate()

    def retranslate(self) -> None:
        tr = self._tr
        self.question.text = tr("Is the build plate empty and clean?")
        self.back_button.text = tr("No, go back")
        self.confirm_button.text = tr("Yes, print")
        job = self.job
        if job is None:
            self.details.text = self.hold.text = ""
            return
        self.details.text = f"{job.name}\n{figures(tr, job)} · " + tr.money(job.price,
                                                                          job.currency)
        self.hold.text = tr(
            "{amount} is held until the print ends; you pay for what is printed.",
            amount=tr.money(job.hold_amount, job.currency))


class Print3DProgressScreen(Screen):
    """A release, then the print: percent, time left, grams so far, temperatures and
    events; Cancel print (confirmed) and Leave; at the end what was charged."""

    def __init__(self, tr: Translator, on_cancel: Callable[[], None],
                 on_leave: Callable[[], None], on_done: Callable[[], None],
                 on_add_credit: Callable[[Decimal | None], None], **kwargs: Any) -> None:
        super().__init__(name="print3d", **kwargs)
        self._tr = tr
        self._on_cancel = on_cancel
        self._on_add_credit = on_add_credit
        self.update: Print3DUpdate | None = None
        self.confirming = False
        root = Backdrop(spacing=dp(8))
        self.heading = text(28, bold=True, size_hint_y=None, height=dp(44))
        self.stage = text(22)
        self.bar = ProgressBar(max=100, value=0, size_hint_y=None, height=dp(24), opacity=0)
        self.figures = text(20, color=MUTED)
        self.temperatures = text(17, color=MUTED, size_hint_y=None, height=dp(28))
        self.event = text(18, color=WARNING, size_hint_y=None, height=dp(28))
        self.row = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.cancel_button = touch_button(colour=DANGER)
        self.cancel_button.bind(on_release=lambda *_: self._cancel_tapped())
        self.keep_button = touch_button(colour=OK)
        self.keep_button.bind(on_release=lambda *_: self._keep_printing())
        self.leave_button = touch_button()
        self.leave_button.bind(on_release=lambda *_: on_leave())
        self.done_button = touch_button(colour=OK)
        self.done_button.bind(on_release=lambda *_: on_done())
        self.credit_button = touch_button(colour=OK)
        self.credit_button.bind(on_release=lambda *_: self._add_credit())
        for widget in (self.heading, self.stage, self.bar, self.figures, self.temperatures,
                       self.event, self.row):
            root.add_widget(widget)
        self.add_widget(root)
        self._buttons(())

    def clear(self) -> None:
        self.update = None
        self.confirming = False
        for label in (self.heading, self.stage, self.figures, self.temperatures, self.event):
            label.text = ""
        self.bar.opacity, self.bar.value = 0, 0
        self._buttons(())

    def render(self, update: Print3DUpdate) -> None:
        if update.stage.final or update.stage is not Stage3D.PRINTING:
            self.confirming = False
        self.update = update
        tr = self._tr
        self.heading.text = update.name
        self.stage.color = _colour(update)
        self.stage.text = self._stage_text(update)
        printing = update.stage is Stage3D.PRINTING and update.percent is not None
        self.bar.opacity = 1 if printing else 0
        self.bar.value = (update.percent or 0) if printing else 0
        self.figures.text = self._figures_text(update)
        self.temperatures.text = _temperatures(tr, update)
        self.event.text = " ".join(_event(tr, e) for e in update.events)
        if update.stage is Stage3D.PRINTING:
            self._buttons((self.keep_button, self.cancel_button) if self.confirming
                          else (self.cancel_button, self.leave_button))
        elif update.stage is Stage3D.INSUFFICIENT:
            self._buttons((self.done_button, self.credit_button))
        elif update.stage.final:
            self._buttons((self.done_button,))
        else:
            self._buttons((self.leave_button,))
        self._captions()

    def retranslate(self) -> None:
        if self.update is not None:
            self.render(self.update)
        self._captions()

    def _captions(self) -> None:
        tr = self._tr
        self.cancel_button.text = tr("Yes, cancel the print") if self.confirming \
            else tr("Cancel print")
        self.keep_button.text = tr("No, keep printing")
        self.leave_button.text = tr("Leave")
        self.done_button.text = tr("Done")
        self.credit_button.text = tr("Add credit")
        if self.confirming:
            self.stage.text = tr(
                "Cancel this print? What is printed so far is charged by the site's policy.")

    def _cancel_tapped(self) -> None:
        if not self.confirming:
            self.confirming = True
            self.retranslate()
            return
        self.confirming = False
        self._on_cancel()
        self.cancel_button.disabled = True
        self.stage.text = self._tr("Cancelling…")

    def _keep_printing(self) -> None:
        self.confirming = False
        self.retranslate()

    def _add_credit(self) -> None:
        self._on_add_credit(self.update.missing if self.update is not None else None)

    def _buttons(self, buttons: tuple[Any, ...]) -> None:
        self.row.clear_widgets()
        for button in buttons:
            button.disabled = False
            self.row.add_widget(button)

    def _stage_text(self, update: Print3DUpdate) -> str:
        tr = self._tr

        def money(amount: Decimal) -> str:
            return tr.money(amount, update.currency)

        stage = update.stage
        if stage is Stage3D.HOLDING:
            return tr("Reserving credit…")
        if stage is Stage3D.SENDING:
            return tr("Sending the file to the printer…")
        if stage is Stage3D.PRINTING:
            if not update.printer_reachable:
                return tr("The printer does not answer; the kiosk keeps asking.")
            return tr("Printing: {percent} %", percent=round(update.percent or 0))
        if stage is Stage3D.SETTLING:
            return tr("The print has ended; working out the charge…")
        if stage is Stage3D.INSUFFICIENT:
            missing = update.missing
            return tr("Not enough credit for this print: {missing} more is needed.",
                      missing=money(missing)) if missing is not None \
                else tr.error("insufficient_funds")
        if stage is Stage3D.REFUSED:
            return tr.error(update.problem or "generic")
        if stage is Stage3D.NOT_STARTED:
            return tr("Not printed: {reason} Nothing was charged.",
                      reason=tr.error(update.problem or "generic"))
        ending = {Stage3D.FINISHED: tr("Finished."),
                  Stage3D.CANCELLED: tr("Print cancelled."),
                  Stage3D.FAILED: tr("The print failed.")}[stage]
        if update.problem == "settlement_refused":
            return f"{ending} " + tr.error("settlement_refused")
        if update.charged is None:
            return f"{ending} " + tr(
                "The charge will be worked out as soon as the server can be reached.")
        if update.charged == 0:
            return f"{ending} " + tr("Nothing was charged.")
        return f"{ending} " + tr("Charged {amount} for {grams} g.",
                                 amount=money(update.charged),
                                 grams=tr.number(update.grams_charged or Decimal(0)))

    def _figures_text(self, update: Print3DUpdate) -> str:
        tr = self._tr
        parts = []
        if update.stage is Stage3D.PRINTING:
            if update.grams_so_far is not None and update.grams_estimate is not None:
                parts.append(tr("{grams} g of {total} g", grams=tr.number(update.grams_so_far),
                                total=tr.number(update.grams_estimate)))
            if update.time_left_s is not None:
                parts.append(tr("{time} left", time=duration(tr, update.time_left_s)))
        if update.balance is not None and update.stage.final:
            parts.append(tr("New balance: {amount}", amount=tr.money(
                update.balance.available, update.balance.currency)))
        return " · ".join(parts)


def _colour(update: Print3DUpdate) -> tuple[float, ...]:
    if update.stage is Stage3D.FINISHED:
        return OK_TEXT
    if update.stage in (Stage3D.FAILED, Stage3D.REFUSED, Stage3D.INSUFFICIENT,
                        Stage3D.NOT_STARTED) or not update.printer_reachable:
        return DANGER_TEXT
    return (0.96, 0.97, 0.98, 1)


def _temperatures(tr: Translator, update: Print3DUpdate) -> str:
    if update.stage is not Stage3D.PRINTING:
        return ""
    parts = []
    for heater, (actual, target) in sorted(update.temperatures.items()):
        label = tr("Bed") if "bed" in heater else tr("Nozzle")
        aim = f" / {target:.0f}" if target is not None else ""
        parts.append(f"{label} {actual:.0f}{aim} °C")
    return " · ".join(parts)


def _event(tr: Translator, event: str) -> str:
    if event == "filament_runout":
        return tr("Filament ran out: the printer waits for new filament.")
    if event == "filament_change":
        return tr("Filament change: the printer waits for the new filament.")
    return ""

