"""The held-job screens: the list on the home screen, a job's detail, release progress.

They render what :mod:`terminal.jobs` and :mod:`terminal.release` decided (quotes,
alternatives, release updates) and hand every tap back as a callback; amounts are
formatted for the current language, and problems are stable keys from the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kivy.metrics import dp, sp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.i18n import Translator
from kiosk.widgets import (
    ACCENT,
    DANGER,
    DANGER_TEXT,
    DARK_TEXT,
    MUTED,
    OK,
    OK_TEXT,
    WARNING,
    Backdrop,
    text,
    touch_button,
)
from terminal.jobs import Alternative, JobList, JobOptions, JobQuote
from terminal.outcomes import Settlement
from terminal.ports import Balance, BillingCode
from terminal.release import ReleaseUpdate, Stage

ROW_HEIGHT = 64
CHOICE_HEIGHT = 56  # still above 9 mm on a 7-inch 800x480 panel
# Every choice in one fixed order, the current one included and marked: a button never
# moves when the choice changes, so a second tap lands on the same option (issue 11).
CHOICE_ORDER = tuple(JobOptions(colour, duplex) for colour in (True, False)
                     for duplex in (False, True))


def options_label(tr: Translator, options: JobOptions) -> str:
    colour = tr("Colour") if options.colour else tr("Black & white")
    sides = tr("two-sided") if options.duplex else tr("one-sided")
    return f"{colour}, {sides}"


def pages_label(tr: Translator, impressions: int, colour: int) -> str:
    return tr.plural("{pages} page · {colour} in colour", "{pages} pages · {colour} in colour",
                     impressions, pages=impressions, colour=colour)


def _left(label: Any) -> Any:
    label.halign = "left"
    return label


class JobListPanel(BoxLayout):
    """The home screen's list: a row per job (name, pages and colour pages over the job's
    chosen settings, price) and a total."""

    def __init__(
        self,
        tr: Translator,
        on_open: Callable[[int], None],
        on_print_all: Callable[[], None],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("spacing", dp(8))
        super().__init__(**kwargs)
        self._tr = tr
        self._on_open = on_open
        self.status = text(20, color=MUTED, size_hint_y=None, height=dp(32))
        self.rows = GridLayout(cols=1, spacing=dp(6), size_hint_y=None)
        self.rows.bind(minimum_height=self.rows.setter("height"))
        scroller = ScrollView(do_scroll_x=False)
        scroller.add_widget(self.rows)
        footer = BoxLayout(size_hint_y=None, height=dp(ROW_HEIGHT), spacing=dp(12))
        self.total = _left(text(24, bold=True))
        self.print_all_button = touch_button(colour=OK, size_hint_x=0.45)
        self.print_all_button.bind(on_release=lambda *_: on_print_all())
        footer.add_widget(self.total)
        footer.add_widget(self.print_all_button)
        self.add_widget(self.status)
        self.add_widget(scroller)
        self.add_widget(footer)
        self.open_buttons: dict[int, Any] = {}
        self.jobs: JobList | None = None
        # the key of the problem shown instead of a list: kept so a language switch
        # re-translates it (the text alone would stay in the language it was shown in)
        self.problem: str | None = None
        self.clear()

    def clear(self, status: str = "") -> None:
        self.jobs = None
        self.problem = None
        self.rows.clear_widgets()
        self.open_buttons = {}
        self.status.color, self.status.font_size, self.status.height = MUTED, sp(20), dp(32)
        self.status.text = status
        self.total.text = ""
        self.print_all_button.text = ""
        self.print_all_button.disabled = True
        self.print_all_button.opacity = 0

    def show_problem(self, code: str) -> None:
        """No list, and why (``pricing_unavailable``, ``jobs_unavailable``...): in red, with
        room for the three lines a translated explanation may take at 800x480."""
        self.clear(self._tr.error(code))
        self.problem = code
        self.status.color, self.status.font_size, self.status.height = (
            DANGER_TEXT, sp(17), dp(72))

    def retranslate(self) -> None:
        """Show what is shown now (the list, or the problem) in the current language."""
        if self.jobs is not None:
            self.show(self.jobs)
        elif self.problem is not None:
            self.show_problem(self.problem)

    def show(self, jobs: JobList) -> None:
        tr = self._tr
        self.clear()
        self.jobs = jobs
        if not jobs.jobs:
            self.status.text = tr("You have no print jobs waiting.")
            return
        # prices that may differ from the backend's say why (offline, the site's list)
        if jobs.notice:
            self.status.color, self.status.font_size, self.status.height = (
                WARNING, sp(17), dp(48))  # two lines
            self.status.text = tr.error(jobs.notice)
        else:
            self.status.text = tr("Your print jobs")
        for job in jobs.jobs:
            self.rows.add_widget(self._row(job))
        self.total.text = tr("Total: {amount}", amount=tr.money(jobs.total, jobs.currency))
        self.print_all_button.text = tr("Print all ({count})", count=len(jobs.jobs))
        self.print_all_button.disabled = False
        self.print_all_button.opacity = 1

    def _row(self, job: JobQuote) -> BoxLayout:
        tr = self._tr
        row = BoxLayout(size_hint_y=None, height=dp(ROW_HEIGHT), spacing=dp(8))
        name = _left(text(20, bold=True, size_hint_x=0.38, shorten=True))
        name.text = job.name + (" *" if job.estimated else "")
        pages = _left(text(16, color=MUTED, size_hint_x=0.3))
        pages.text = pages_label(tr, job.impressions, job.colour_impressions) + "\n" \
            + options_label(tr, job.options)
        amount = text(22, bold=True, size_hint_x=0.14)
        amount.text = tr.money(job.amount, job.currency)
        button = touch_button(tr("Options"), colour=ACCENT, size_hint_x=0.18)
        button.bind(on_release=lambda *_b, job_id=job.job_id: self._on_open(job_id))
        self.open_buttons[job.job_id] = button
        for widget in (name, pages, amount, button):
            row.add_widget(widget)
        return row


class JobDetailScreen(Screen):
    """One job: every mono/duplex choice with its price and saving, the current one marked.

    The choices keep one order whatever is chosen (``CHOICE_ORDER``): tapping one marks
    it in place instead of removing it from the list, so nothing shifts under the finger.
    """

    def __init__(
        self,
        tr: Translator,
        on_back: Callable[[], None],
        on_change: Callable[[int, JobOptions], None],
        on_delete: Callable[[int], None],
        on_print: Callable[[JobQuote], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(name="job", **kwargs)
        self._tr = tr
        self._on_change = on_change
        self._on_delete = on_delete
        self._on_print = on_print
        self.job: JobQuote | None = None
        self._delete_armed = False
        root = Backdrop(padding=dp(14), spacing=dp(6))
        self.heading = text(26, bold=True, size_hint_y=None, height=dp(40), shorten=True)
        self.facts = text(18, color=MUTED, size_hint_y=None, height=dp(28))
        self.choices_caption = text(18, color=MUTED, size_hint_y=None, height=dp(24))
        self.choices = BoxLayout(orientation="vertical", spacing=dp(6), size_hint_y=None)
        self.choice_buttons: dict[JobOptions, Any] = {}
        actions = BoxLayout(size_hint_y=None, height=dp(ROW_HEIGHT), spacing=dp(12))
        self.back_button = touch_button(colour=MUTED)
        self.back_button.color = DARK_TEXT
        self.back_button.bind(on_release=lambda *_: on_back())
        self.delete_button = touch_button(colour=DANGER)
        self.delete_button.bind(on_release=lambda *_: self._delete())
        self.print_button = touch_button(colour=OK)
        self.print_button.bind(on_release=lambda *_: self._print())
        for button in (self.back_button, self.delete_button, self.print_button):
            actions.add_widget(button)
        for widget in (self.heading, self.facts, self.choices_caption,
                       self.choices, Widget(), actions):
            root.add_widget(widget)
        self.add_widget(root)

    def show(self, job: JobQuote) -> None:
        """Render ``job`` (again, after a change came back with new prices)."""
        tr = self._tr
        self.job = job
        self._delete_armed = False
        self.heading.text = job.name
        copies = tr("{copies} copies", copies=job.copies) if job.copies > 1 else ""
        self.facts.text = " · ".join(filter(None, [
            tr.datetime(job.submitted_at),
            pages_label(tr, job.impressions, job.colour_impressions),
            copies,
            tr("estimate by rule: the document could not be read") if job.estimated else "",
        ]))
        self.choices_caption.text = tr("Your choice is marked; tap another to change it:")
        self.choices.clear_widgets()
        self.choice_buttons = {}
        others = {alternative.options: alternative for alternative in job.alternatives}
        for options in CHOICE_ORDER:
            if options == job.options:
                button = touch_button(self._current_text(job), colour=OK,
                                      height=dp(CHOICE_HEIGHT), bold=True)
                button.background_disabled_normal = ""  # marked, not greyed out
                button.disabled_color = button.color
                button.disabled = True  # tapping the current choice again changes nothing
            elif options in others:
                button = touch_button(self._choice_text(job, others[options]), colour=ACCENT,
                                      height=dp(CHOICE_HEIGHT))
                button.bind(on_release=lambda *_b, o=options: self._change(o))
            else:
                continue
            self.choices.add_widget(button)
            self.choice_buttons[options] = button
        count = len(self.choice_buttons)
        self.choices.height = count * dp(CHOICE_HEIGHT) + max(0, count - 1) * dp(6)
        self.retranslate_actions()

    def retranslate(self) -> None:
        if self.job is not None:
            self.show(self.job)

    def _current_text(self, job: JobQuote) -> str:
        tr = self._tr
        return tr("{options}: {amount} — your choice", options=options_label(tr, job.options),
                  amount=tr.money(job.amount, job.currency))

    def _choice_text(self, job: JobQuote, alternative: Alternative) -> str:
        tr = self._tr
        amount = tr.money(alternative.amount, job.currency)
        label = options_label(tr, alternative.options)
        if alternative.saving > 0:
            return tr("{options}: {amount} — you save {saving}", options=label, amount=amount,
                      saving=tr.money(alternative.saving, job.currency))
        if alternative.saving < 0:
            return tr("{options}: {amount} — costs {extra} more", options=label, amount=amount,
                      extra=tr.money(-alternative.saving, job.currency))
        return tr("{options}: {amount} — same price", options=label, amount=amount)

    def retranslate_actions(self) -> None:
        tr = self._tr
        self.back_button.text = tr("Back")
        self.delete_button.text = tr("Tap again to delete") if self._delete_armed \
            else tr("Delete")
        self.print_button.text = tr("Print this job")

    def _change(self, options: JobOptions) -> None:
        if self.job is not None:
            self.choices_caption.text = self._tr("One moment…")
            for chosen, button in self.choice_buttons.items():
                button.disabled = True
                if chosen == options:
                    button.background_disabled_normal = ""  # the tapped one stays bright
            self._on_change(self.job.job_id, options)

    def _delete(self) -> None:
        """Two taps: a brushed finger must not throw a document away."""
        if self.job is None:
            return
        if not self._delete_armed:
            self._delete_armed = True
            self.retranslate_actions()
            return
        self._on_delete(self.job.job_id)

    def _print(self) -> None:
        if self.job is not None:
            self._on_print(self.job)

    def clear(self) -> None:
        """Forget the job (logout): nothing of the previous user stays behind."""
        self.job = None
        self.heading.text = self.facts.text = ""
        self.choices.clear_widgets()
        self.choice_buttons = {}


class ReleaseScreen(Screen):
    """Release progress per job, the credit held meanwhile, then what each job became.

    Every final line says what was printed and what was charged or given back, and the
    summary adds them up: "Finished" only when every job printed in full. A job charged
    to a billing code its client pays (``payer == "code"``) never touches the user's
    balance, so none is shown going down: the screen says the balance was not used.
    """

    def __init__(self, tr: Translator, on_done: Callable[[], None],
                 on_voucher: Callable[[], None] | None = None,
                 on_topup: Callable[[Decimal], None] | None = None, **kwargs: Any) -> None:
        super().__init__(name="release", **kwargs)
        self._tr = tr
        root = Backdrop(spacing=dp(8))
        self.heading = text(26, bold=True, size_hint_y=None, height=dp(44))
        self.rows = GridLayout(cols=2, spacing=dp(6), size_hint_y=None)
        self.rows.bind(minimum_height=self.rows.setter("height"))
        scroller = ScrollView(do_scroll_x=False)
        scroller.add_widget(self.rows)
        self.balance_line = text(20, color=MUTED, size_hint_y=None, height=dp(32))
        self.summary = text(19, bold=True, size_hint_y=None, height=0)
        self.help = text(18, color=DANGER_TEXT, size_hint_y=None, height=0)
        self.done_button = touch_button()
        self.done_button.bind(on_release=lambda *_: on_done())
        # after "not enough credit": redeem a voucher straight away, beside Done
        self.voucher_button = touch_button(colour=OK)
        if on_voucher is not None:
            self.voucher_button.bind(on_release=lambda *_: on_voucher())
        self._voucher_offered = on_voucher is not None
        # ... or top up the missing amount by phone (the amount screen opens with it)
        self.topup_button = touch_button(colour=ACCENT)
        if on_topup is not None:
            self.topup_button.bind(on_release=lambda *_: on_topup(self.short_by))
        self._topup_offered = on_topup is not None
        self.actions = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        self.actions.add_widget(self.done_button)
        for widget in (self.heading, scroller, self.balance_line, self.summary, self.help,
                       self.actions):
            root.add_widget(widget)
        self.add_widget(root)
        self.quotes: list[JobQuote] = []
        self.billing_code: BillingCode | None = None
        self.updates: dict[int, ReleaseUpdate] = {}
        self.balance: Balance | None = None
        self._status_labels: dict[int, Any] = {}

    @property
    def code_pays(self) -> bool:
        """The jobs are paid by the picked billing code, not by the user's balance."""
        return self.billing_code is not None and self.billing_code.payer == "code"

    def start(self, quotes: list[JobQuote], billing_code: BillingCode | None = None) -> None:
        """Show ``quotes`` waiting; the billing code they are charged to, if one was picked."""
        self.quotes = list(quotes)
        self.billing_code = billing_code
        self.updates = {}
        self.balance = None
        self._layout()

    def _layout(self) -> None:
        tr = self._tr
        self._status_labels = {}
        self.rows.clear_widgets()
        code = self.billing_code
        if code is not None and self.code_pays:
            self.heading.text = tr("Printing — charged to {code}, not to your balance",
                                   code=code.code)
        elif code is not None:
            self.heading.text = tr("Printing — charged to {code}", code=code.code)
        else:
            self.heading.text = tr("Printing")
        self.balance_line.text = self.summary.text = self.help.text = ""
        # the lines below the jobs take room only when they say something
        self.balance_line.height, self.summary.height, self.help.height = dp(32), 0, 0
        self.done_button.text = tr("Please wait…")
        self.done_button.disabled = True
        self.voucher_button.text = tr("Redeem a voucher")
        self.topup_button.text = tr("Top up by phone")
        for offer in (self.voucher_button, self.topup_button):
            if offer.parent is not None:
                self.actions.remove_widget(offer)
        for quote in self.quotes:
            name = _left(text(19, bold=True, size_hint=(0.4, None), height=dp(64),
                              shorten=True))
            name.text = f"{quote.name} · {tr.money(quote.amount, quote.currency)}"
            status = _left(text(17, size_hint=(0.6, None), height=dp(64)))
            status.text = tr("Waiting")
            self.rows.add_widget(name)
            self.rows.add_widget(status)
            self._status_labels[quote.job_id] = status

    def clear(self) -> None:
        """Forget the release (logout): nothing of the previous user stays behind."""
        self.start([])
        self.heading.text = ""

    def retranslate(self) -> None:
        """Everything again in the current language, progress included."""
        if not self.quotes:
            return
        updates, balance = list(self.updates.values()), self.balance
        self._layout()
        self.updates, self.balance = {}, None
        for update in updates:
            self.render(update)
        self.balance = balance

    def render(self, update: ReleaseUpdate) -> None:
        tr = self._tr
        self.updates[update.job_id] = update
        label = self._status_labels.get(update.job_id)
        if label is not None:
            label.text, label.color = self._status(update)
        if update.balance is not None and not self.code_pays:
            self.balance = update.balance
            self.balance_line.text = self._balance_text(update.balance)
        if update.stage is Stage.INSUFFICIENT:
            self.help.text = tr(
                "To add credit: redeem a voucher, top up online, or pay at the cash desk."
            )
            self.help.height = dp(28)
        finished = bool(self.updates) and all(u.stage.final for u in self.updates.values())
        if finished:
            self._finish()

    def _status(self, update: ReleaseUpdate) -> tuple[str, tuple[float, ...]]:
        tr = self._tr
        if update.stage is Stage.WAITING:
            return tr("Waiting"), MUTED
        if update.stage is Stage.HOLDING:
            return tr("Reserving credit…"), MUTED
        if update.stage is Stage.PRINTING:
            return tr("Printing: {done} of {total} pages", done=update.impressions_done,
                      total=update.impressions_total), ACCENT
        if update.stage is Stage.INSUFFICIENT and update.missing is not None:
            return tr("Not enough credit: {missing} missing",
                      missing=tr.money(update.missing, update.currency)), DANGER_TEXT
        return self._outcome(update)

    def _outcome(self, update: ReleaseUpdate) -> tuple[str, tuple[float, ...]]:
        """A final line: how the job ended, then pages printed and money moved."""
        tr = self._tr
        done = update.impressions_done
        settled = update.stage is Stage.CHARGED
        if settled and update.problem is None:
            ending, colour = tr("Printed"), OK_TEXT
        elif settled and done > 0:
            ending, colour = tr.error(update.problem or "generic"), WARNING
        else:
            ending, colour = tr.error(update.problem or "generic"), DANGER_TEXT
        pages = tr("Pages printed: {done} of {total}", done=done,
                   total=update.impressions_total or update.impressions_done)
        return f"{ending}\n{pages} · {self._money_moved(update)}", colour

    def _money_moved(self, update: ReleaseUpdate) -> str:
        tr = self._tr
        money, currency = tr.money, update.currency
        charged = update.charged or Decimal("0")
        refunded = update.refunded or Decimal("0")
        if update.settlement is Settlement.UNSETTLED:
            # held, but neither captured nor voided: the journal keeps it for the backend
            if update.held is None:
                return tr("credit still held, settled later")
            return tr("{amount} still held, settled later", amount=money(update.held, currency))
        if update.settlement is Settlement.NONE:
            return tr("nothing charged")
        if charged > 0 and self.code_pays and self.billing_code is not None:
            moved = tr("{amount} charged to {code}", amount=money(charged, currency),
                       code=self.billing_code.code)
        elif charged > 0:
            moved = tr("charged {amount}", amount=money(charged, currency))
        else:
            moved = tr("nothing charged")
        if refunded > 0 and not self.code_pays:
            moved += " · " + tr("{amount} given back", amount=money(refunded, currency))
        return moved

    def _balance_text(self, balance: Balance) -> str:
        tr = self._tr
        parts = [tr("Available: {amount}", amount=tr.money(balance.available, balance.currency))]
        if balance.held:
            parts.append(tr("held for printing: {amount}",
                            amount=tr.money(balance.held, balance.currency)))
        return " · ".join(parts)

    def _finish(self) -> None:
        tr = self._tr
        finals = list(self.updates.values())
        currency = finals[0].currency
        charged = sum((u.charged or Decimal("0") for u in finals), Decimal("0"))
        refunded = sum((u.refunded or Decimal("0") for u in finals), Decimal("0"))
        # pages of the jobs whose money was settled (a refused capture counts none here)
        pages = sum(u.impressions_done for u in finals
                    if u.settlement in (Settlement.CHARGED, Settlement.PARTLY_CHARGED))
        if all(u.stage is Stage.CHARGED and u.problem is None for u in finals):
            self.heading.text = tr("Finished")
        elif pages > 0:
            self.heading.text = tr("Partly printed")
        else:
            self.heading.text = tr("Not printed")
        lines = [tr("Pages printed: {pages}", pages=pages)]
        if self.code_pays and self.billing_code is not None:
            lines[0] += " · " + tr("charged to {code}: {amount}", code=self.billing_code.code,
                                   amount=tr.money(charged, currency))
            lines.append(tr("Your balance was not used."))
        else:
            lines[0] += " · " + (tr("Amount charged: {amount}",
                                    amount=tr.money(charged, currency))
                                 if charged > 0 else tr("Nothing was charged."))
            if refunded > 0:
                lines.append(tr("Given back: {amount}", amount=tr.money(refunded, currency)))
            unsettled = sum((u.held or Decimal("0") for u in finals
                             if u.settlement is Settlement.UNSETTLED), Decimal("0"))
            if unsettled > 0:
                lines[-1] += " · " + tr("still held, settled later: {amount}",
                                        amount=tr.money(unsettled, currency))
            if self.balance is not None:
                available = tr.money(self.balance.available, self.balance.currency)
                lines.append(tr("New balance: {amount}", amount=available) if charged > 0
                             else tr("Available: {amount}", amount=available))
        self.balance_line.text = ""
        self.balance_line.height = 0
        self.summary.text = "\n".join(lines)
        self.summary.height = dp(26) * len(lines) + dp(6)
        self.done_button.text = tr("Done")
        self.done_button.disabled = False
        short = any(u.stage is Stage.INSUFFICIENT for u in finals)
        if short and self._voucher_offered and self.voucher_button.parent is None:
            self.actions.add_widget(self.voucher_button, index=1)  # left of Done
        if short and self._topup_offered and self.topup_button.parent is None:
            self.actions.add_widget(self.topup_button, index=1)

    @property
    def short_by(self) -> Decimal:
        """What the jobs refused for lack of credit need beyond the balance: their price
        less what is available (at least the largest single shortfall the backend
        named, when the balance is not known)."""
        short = [u for u in self.updates.values() if u.stage is Stage.INSUFFICIENT]
        named = max((u.missing or Decimal("0") for u in short), default=Decimal("0"))
        if self.balance is None:
            return named
        prices = {quote.job_id: quote.amount for quote in self.quotes}
        total = sum((prices.get(u.job_id, Decimal("0")) for u in short), Decimal("0"))
        return max(total - self.balance.available, named)
