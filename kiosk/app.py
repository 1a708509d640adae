"""The Kivy application: screens driven by the terminal's session controller and job flow.

The controller calls back from worker threads; every view is handed to the Kivy thread
with ``Clock.schedule_once`` and the screens render it there. The idle timeout is a
once-a-second tick into the controller, which alone decides when to log out. Held jobs
are loaded, changed and released through :class:`kiosk.job_flow.JobFlow`, off the Kivy
thread as well.

Before a release, when the terminal asks for a billing code (``[terminal] billing_code``
"optional" or "required"), the picker comes first and its choice goes with the hold.
After an unknown card, the idle screen offers to associate it with an account: the
enrolment screen asks username + PIN and the session controller does the rest.

*Add credit* (home screen, and the release screen after "not enough credit") leads to
the voucher screen. Characters typed on a physical keyboard, or by a keyboard-wedge
scanner nobody grabbed, go into its field while it is shown (Enter redeems); a grabbed
2D scanner (``[voucher_scanner]``) fills the field from its own thread, through the
Kivy clock like every other result.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.billing_flow import CodeSearch
from kiosk.billing_screens import BillingCodeScreen
from kiosk.i18n import Translator
from kiosk.job_flow import JobFlow
from kiosk.job_screens import JobDetailScreen, ReleaseScreen
from kiosk.print3d_flow import Print3DFlow
from kiosk.print3d_screens import PlateScreen, Print3DListPanel, Print3DProgressScreen
from kiosk.run import TerminalSource
from kiosk.screens import EnrolScreen, HomeScreen, IdleScreen, PinScreen
from kiosk.technician_mode import TechnicianScreens
from kiosk.topup_flow import TopUpFlow
from kiosk.topup_screens import TopUpAmountScreen, TopUpQrScreen, TopUpResultScreen
from kiosk.voucher_flow import VoucherFlow
from kiosk.voucher_screens import (
    AddCreditScreen,
    VoucherResultScreen,
    VoucherScreen,
    voucher_receipt,
)
from kiosk.widgets import Banner
from terminal.jobs import JobList, JobOptions, JobQuote
from terminal.ports import (
    BillingCode,
    Print3DJob,
    Redemption,
    TopUp,
    TopUpOptions,
    TopUpRefusal,
    VoucherCredit,
)
from terminal.print3d_values import Print3DUpdate
from terminal.release import ReleaseUpdate
from terminal.session import SessionState, SessionView
from terminal.technician_types import Technician, TechnicianDesk
from terminal.topups import TopUpDesk
from terminal.vouchers import VoucherDesk
from terminal.wiring import RestartFailed, Terminal

ENTER_KEYS = (13, 271)  # Return and the keypad's Enter, as Kivy's key codes
BACKSPACE_KEY = 8
# the screens of one visit to "add credit": the session's notifications keep them shown
CREDIT_SCREENS = ("credit", "voucher", "voucher_result", "topup", "topup_qr", "topup_result")
PRINT3D_SCREENS = ("print3d_plate", "print3d")

_log = logging.getLogger(__name__)


class KioskApp(App):
    """One kiosk window for one terminal."""

    title = "printkiosk"

    def __init__(self, terminal: Terminal, factory: TerminalSource | None = None,
                 technician_desk: TechnicianDesk | None = None,
                 demo_enrolment_key: Callable[[], str | None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # what rebuilds the terminal core from its file after a technician's change
        self.factory = factory
        # the desk when the terminal brings none (a unit test's fake)
        self._desk = technician_desk
        self._demo_enrolment_key = demo_enrolment_key
        self.tr = Translator(terminal.session.view.language, terminal.config.terminal.timezone)
        self.manager = ScreenManager(transition=NoTransition())
        self.offline_banner = Banner()
        self._offline = False
        self._technician: Technician | None = None
        self._mount(terminal)

    def _mount(self, terminal: Terminal) -> None:
        """Build every screen for ``terminal``: at start, and for the new core after a
        technician's change was applied (the old screens go with the old core)."""
        self.terminal = terminal
        config = terminal.config
        self.manager.clear_widgets()
        self.idle = IdleScreen(
            terminal.session,
            self.tr,
            printer_name=config.printer.name,
            terminal_name=config.terminal.name,
            demo_cards=terminal.demo_cards,
            demo_vouchers=terminal.demo_vouchers,
            typed_card=terminal.typed_card,
            on_language=terminal.session.set_language,
            on_pin_login=self.show_pin_login,
            on_enrol=self.show_enrol,
            on_technician=self.show_technician_login,
        )
        self.flow: JobFlow | None = None
        if terminal.jobs is not None and terminal.release is not None:
            self.flow = JobFlow(
                terminal.jobs,
                terminal.release,
                terminal.jobs_executor,
                on_jobs=self._jobs_listed,
                on_jobs_error=self._jobs_failed,
                on_release=self._release_update,
                on_activity=terminal.session.touch,
            )
            self.home = HomeScreen(terminal.session, self.tr, on_open_job=self.open_job,
                                   on_print_all=self.print_all,
                                   on_add_credit=self.show_add_credit)
        self.print3d_flow: Print3DFlow | None = None
        self.print3d_panel = Print3DListPanel(self.tr, on_pick=self._pick_3d,
                                              on_progress=self._show_3d_progress)
        if terminal.print3d is not None:
            self.print3d_flow = Print3DFlow(
                terminal.print3d, terminal.jobs_executor, on_jobs=self.print3d_panel.show,
                on_jobs_error=self.print3d_panel.show_problem, on_update=self._print3d_update)
            self.home = HomeScreen(terminal.session, self.tr, on_add_credit=self.show_add_credit,
                                   panel=self.print3d_panel)
        elif self.flow is None:
            self.home = HomeScreen(terminal.session, self.tr, on_add_credit=self.show_add_credit)
        self.plate = PlateScreen(self.tr, on_confirm=self._release_3d, on_back=self.show_home)
        self.print3d = Print3DProgressScreen(
            self.tr, on_cancel=self._cancel_3d, on_leave=terminal.session.logout,
            on_done=self._print3d_done, on_add_credit=self.show_topup)
        self.pin = PinScreen(terminal.session, self.tr, on_cancel=self.show_idle)
        self.enrol = EnrolScreen(terminal.session, self.tr, on_cancel=self.show_idle)
        self.job = JobDetailScreen(self.tr, on_back=self.show_home, on_change=self.change_job,
                                   on_delete=self.delete_job, on_print=self.print_one)
        self.release = ReleaseScreen(self.tr, on_done=self.show_home,
                                     on_voucher=self.show_voucher, on_topup=self.show_topup)
        self.credit = AddCreditScreen(self.tr, on_voucher=self.show_voucher,
                                      on_back=self.show_home, on_topup=self.show_topup)
        self.voucher = VoucherScreen(self.tr, on_redeem=self._redeem, on_back=self.show_home)
        self.voucher_result = VoucherResultScreen(
            self.tr, on_done=self.show_home,
            on_receipt=self._print_receipt if terminal.receipt_printer is not None else None)
        desk = terminal.vouchers or VoucherDesk(terminal.backend)
        self.voucher_flow = VoucherFlow(desk, terminal.executor,
                                        on_answer=self._voucher_answered)
        self.topup_amount = TopUpAmountScreen(self.tr, on_continue=self._start_topup,
                                              on_back=self.show_add_credit)
        self.topup_qr = TopUpQrScreen(self.tr, on_cancel=self._cancel_topup)
        self.topup_result = TopUpResultScreen(self.tr, on_done=self.show_home,
                                              on_again=self.show_topup)
        self.topup_flow = TopUpFlow(terminal.topups or TopUpDesk(terminal.backend),
                                    terminal.executor, on_options=self._topup_options,
                                    on_started=self._topup_started,
                                    on_update=self._topup_update)
        self.billing_code_mode = config.terminal.billing_code
        self.billing = BillingCodeScreen(self.tr, on_look=self._look_codes,
                                         on_choose=self._start_release, on_back=self.show_home)
        self.code_search = CodeSearch(terminal.backend, terminal.jobs_executor,
                                      on_codes=self.billing.show_codes,
                                      on_error=self.billing.show_problem)
        self._user: str | None = None
        technician_desk = terminal.technician or self._desk
        self.technician_executor = ThreadPoolExecutor(max_workers=1,
                                                      thread_name_prefix="technician")
        self.technician = TechnicianScreens(
            self.tr, terminal.session, technician_desk, self.technician_executor,
            config.terminal.name,
            show=self._show_screen, restart=self._restart if self.factory is not None else None,
            demo_enrolment_key=self._demo_enrolment_key, typed_card=terminal.typed_card)
        for screen in (self.idle, self.home, self.pin, self.enrol, self.job, self.release,
                       self.billing, self.credit, self.voucher, self.voucher_result,
                       self.topup_amount, self.topup_qr, self.topup_result, self.plate,
                       self.print3d, *self.technician.screens):
            self.manager.add_widget(screen)
        self.manager.current = "idle"

    def _start_terminal(self, started: bool = False) -> None:
        """Listen to the mounted core's session and start it (its reader, its loops),
        unless it is ``started`` already (a restart hands a running core)."""
        self.terminal.session.subscribe(self._from_worker)
        if not started:
            self.terminal.start()
        if self.terminal.voucher_scanner is not None:
            self.terminal.voucher_scanner.start(self._from_scanner)

    def build(self) -> BoxLayout:
        self._start_terminal()
        Window.bind(on_touch_down=lambda *_: self.terminal.session.touch())
        Window.bind(on_textinput=self._text_typed, on_key_down=self._key_down)
        Clock.schedule_interval(lambda _dt: self.terminal.session.tick(), 1.0)
        Clock.schedule_interval(lambda _dt: self._topup_tick(), 1.0)
        Clock.schedule_interval(lambda _dt: self._printer_tick(), 1.0)
        root = BoxLayout(orientation="vertical")
        root.add_widget(self.offline_banner)
        root.add_widget(self.manager)
        self._show_offline(self.terminal.session.view.offline)
        return root

    def _show_offline(self, offline: bool) -> None:
        self._offline = offline
        self.offline_banner.show(
            self.tr("Offline: the server cannot be reached. Recent users can still print.")
            if offline else None
        )

    def on_stop(self) -> None:
        self.technician_executor.shutdown(wait=False, cancel_futures=True)
        self.terminal.close()

    def _show_screen(self, name: str) -> None:
        if name == "idle":
            self.show_idle()
        else:
            self.manager.current = name

    # technician mode -----------------------------------------------------------------

    def show_technician_login(self) -> None:
        self.technician.open_login()

    def _restart(self, technician: Technician, message: str, lines: Sequence[str]) -> None:
        """Apply the file: the factory closes this core and builds one from the file
        (off the Kivy thread: it opens the reader, CUPS, the databases); the screens are
        then rebuilt for the new core, the technician's home shown again."""
        factory, old = self.factory, self.terminal
        if factory is None:
            return
        self.technician.flow_end()

        def work() -> None:
            try:
                result = factory.restart(old)
            except Exception as exc:  # the factory's own bug: keep the old screens
                _log.exception("the terminal core did not restart")
                problem = f"{type(exc).__name__}: {exc}"
                Clock.schedule_once(lambda _dt: self.technician.home.say(
                    "Not applied:", ok=False, lines=[problem]))
                return
            Clock.schedule_once(lambda _dt: self._restarted(result, technician, message, lines))

        threading.Thread(target=work, name="terminal-restart", daemon=True).start()

    def _restarted(self, result: Terminal | RestartFailed, technician: Technician,
                   message: str, lines: Sequence[str]) -> None:
        """``result`` is the new Terminal, or RestartFailed with its problems and the
        old file's core rebuilt (both started)."""
        failed = isinstance(result, RestartFailed)
        problems = result.problems if isinstance(result, RestartFailed) else ()
        terminal = result.terminal if isinstance(result, RestartFailed) else result
        self.technician_executor.shutdown(wait=False, cancel_futures=True)
        self._user = None
        self._technician = technician
        self._mount(terminal)
        self._start_terminal(started=True)
        self.technician.enter(technician)
        # the new core's session starts idle: it takes the technician over, with the idle
        # timeout running again
        terminal.session.resume_technician(technician)
        if failed:
            self.technician.home.say("Not applied: the previous settings are back.",
                                     ok=False, lines=list(problems))
        else:
            self.technician.home.say(message, lines=lines)
        self._show_offline(terminal.session.view.offline)

    def show_pin_login(self) -> None:
        self.pin.clear()
        self.manager.current = "pin"

    def show_enrol(self) -> None:
        hint = self.terminal.session.view.enrol_card_hint
        if hint is not None:
            self.enrol.open(hint)
            self.manager.current = "enrol"

    def show_idle(self) -> None:
        self.idle.render(self.terminal.session.view)
        self.manager.current = "idle"

    def show_home(self) -> None:
        self.manager.current = "home"

    # adding credit ------------------------------------------------------------------

    def show_add_credit(self) -> None:
        self.manager.current = "credit"

    def show_voucher(self) -> None:
        if self._user is not None:
            self.voucher.clear()
            self.manager.current = "voucher"

    def _redeem(self, body: str) -> None:
        if self._user is not None:
            self.terminal.session.touch()
            self.voucher_flow.redeem(self._user, body)

    def _voucher_answered(self, answer: Redemption) -> None:
        self.voucher.answered(answer)
        if isinstance(answer, VoucherCredit):
            self.home.set_balance(answer.balance)
            self.voucher_result.show(answer)
            if self.manager.current == "voucher":
                self.manager.current = "voucher_result"

    def _print_receipt(self, credit: VoucherCredit) -> None:
        printer = self.terminal.receipt_printer
        if printer is not None:
            receipt = voucher_receipt(self.tr, credit, self.terminal.config.terminal.name,
                                      datetime.now(UTC))
            self.voucher_flow.print_receipt(printer, receipt, self.voucher_result.receipt_done)

    def show_topup(self, short_by: Decimal | None = None) -> None:
        """The amount screen; after "not enough credit", with the missing amount."""
        if self._user is not None:
            self.topup_flow.end()  # nothing of an earlier top-up is shown now
            self.topup_amount.open(short_by)
            self.manager.current = "topup"
            self.topup_flow.options(self._user)

    def _topup_options(self, answer: TopUpOptions | TopUpRefusal) -> None:
        self.topup_amount.show_options(answer)

    def _start_topup(self, amount: Decimal) -> None:
        if self._user is not None:
            self.terminal.session.touch()
            self.topup_flow.start(self._user, amount)

    def _topup_started(self, answer: TopUp | TopUpRefusal) -> None:
        if isinstance(answer, TopUpRefusal):
            self.topup_amount.refused(answer)
            return
        try:
            modules = self.terminal.qr_modules(answer.qr_payload)
        except ValueError:
            _log.exception("top-up %s: no QR code of its payload", answer.topup_id)
            self.topup_amount.refused(TopUpRefusal("topup_unavailable"))
            return
        # the console gets the pay URL too: the demo's way to pay from this machine
        _log.warning("top-up %s of %s %s: pay at %s", answer.short_code, answer.amount,
                     answer.currency, answer.pay_url or "a banking app (transfer QR)")
        options = self.topup_amount.options
        self.topup_qr.show(answer, modules, options.gateway if options is not None else "")
        if self.manager.current == "topup":
            self.manager.current = "topup_qr"

    def _topup_update(self, topup: TopUp) -> None:
        if topup.pending:
            return
        self.topup_qr.ended()
        if topup.balance is not None:
            self.home.set_balance(topup.balance)
        self.topup_result.show(topup)
        if self.manager.current == "topup_qr" or (
                self.manager.current == "topup_result" and topup.status == "paid"):
            self.manager.current = "topup_result"

    def _topup_tick(self) -> None:
        """The QR's countdown; while it runs the session stays (the user is paying on
        the phone, not touching the kiosk). At zero the code is shown expired."""
        shown = self.topup_qr.topup
        if self.manager.current != "topup_qr" or shown is None:
            return
        self.topup_qr.tick()
        if self.topup_qr.seconds_left > 0:
            self.terminal.session.touch()
        else:
            self._topup_update(replace(shown, status="expired"))

    def _cancel_topup(self, topup: TopUp) -> None:
        if self._user is not None:
            self.topup_flow.cancel(self._user, topup)

    def _text_typed(self, _window: object, chars: str) -> None:
        """A physical keyboard (or an ungrabbed wedge scanner) typing into the window."""
        if self.manager.current == "voucher":
            self.terminal.session.touch()
            self.voucher.type_text(chars)
        elif self.manager.current == "technician_text":
            # a technician who brought a keyboard (a long URL, an enrolment key)
            self.technician.text.type_text(chars)

    def _key_down(self, _window: object, key: int, *_args: object) -> bool:
        field: Any
        if self.manager.current == "voucher":
            field = self.voucher
        elif self.manager.current == "technician_text":
            field = self.technician.text
        else:
            return False
        self.terminal.session.touch()
        if key in ENTER_KEYS:
            field.submit()
            return True
        if key == BACKSPACE_KEY:
            field.backspace()
            return True
        return False

    def _from_scanner(self, scanned: str) -> None:
        """A grabbed 2D scanner's read, from its thread: into the field if it is shown."""
        Clock.schedule_once(lambda _dt: self._scanned(scanned))

    def _scanned(self, scanned: str) -> None:
        if self.manager.current == "voucher":
            self.terminal.session.touch()
            self.voucher.take_scan(scanned)

    def _speak(self, language: str) -> None:
        """Every screen in the session's language (the session controller decides it)."""
        if language == self.tr.language:
            return
        self.tr.set_language(language)
        for screen in (self.idle, self.home, self.pin, self.enrol, self.billing, self.job,
                       self.release, self.credit, self.voucher, self.voucher_result,
                       self.topup_amount, self.topup_qr, self.topup_result, self.plate,
                       self.print3d):
            screen.retranslate()
        self.technician.retranslate()
        self.print3d_panel.retranslate()
        self._printer_tick()
        self._show_offline(self._offline)

    # held jobs -------------------------------------------------------------------

    def open_job(self, job_id: int) -> None:
        listed = self.home.jobs.jobs if self.home.jobs is not None else None
        if listed is not None:
            self.job.show(listed.find(job_id))
            self.manager.current = "job"

    def change_job(self, job_id: int, options: JobOptions) -> None:
        if self.flow is not None:
            self.flow.change(job_id, options)

    def delete_job(self, job_id: int) -> None:
        if self.flow is not None:
            self.job.job = None
            self.flow.delete(job_id)
            self.show_home()

    def print_all(self) -> None:
        listed = self.home.jobs.jobs if self.home.jobs is not None else None
        if listed is not None:
            self._release(list(listed.jobs))

    def print_one(self, job: JobQuote) -> None:
        self._release([job])

    def _release(self, quotes: list[JobQuote]) -> None:
        """Release now, or first ask for the billing code the jobs are charged to."""
        if self.flow is None or self.flow.releasing or not quotes:
            return
        if self.billing_code_mode == "off":
            self._start_release(quotes, None)
            return
        self.billing.open(quotes, optional=self.billing_code_mode == "optional")
        self.manager.current = "billing"

    def _look_codes(self, query: str) -> None:
        if self._user is not None:
            self.code_search.look(self._user, query)

    def _start_release(self, quotes: list[JobQuote], billing_code: BillingCode | None) -> None:
        if self.flow is None or self.flow.releasing or not quotes:
            return
        self.code_search.end()
        self.release.start(quotes, billing_code)
        self.manager.current = "release"
        self.flow.release(quotes, billing_code.code if billing_code is not None else None)

    def _jobs_listed(self, listed: JobList) -> None:
        if self.home.jobs is not None:
            self.home.jobs.show(listed)
        if self.manager.current == "job" and self.job.job is not None:
            try:
                self.job.show(listed.find(self.job.job.job_id))
            except KeyError:
                self.show_home()

    def _jobs_failed(self, code: str) -> None:
        if self.home.jobs is not None:
            self.home.jobs.show_problem(code)
        if self.manager.current == "job":
            self.show_home()

    def _release_update(self, update: ReleaseUpdate) -> None:
        self.release.render(update)
        if self.flow is not None and not self.release.code_pays:
            # a code its client pays leaves the user's balance as the session showed it
            self.home.set_balance(self.flow.latest_balance)

    # session ---------------------------------------------------------------------

    def _from_worker(self, view: SessionView) -> None:
        Clock.schedule_once(lambda _dt: self.render(view))

    def render(self, view: SessionView) -> None:
        self._speak(view.language)
        self._show_offline(view.offline)
        technician = view.technician
        if view.state is SessionState.TECHNICIAN and technician is not None:
            # technician mode: its own screens; no jobs, balance or release
            if technician != self._technician:
                self._technician = technician
                self.technician.enter(technician)
            self.technician.render(view)
            if view.seconds_left is not None and self.manager.current in self.technician.names:
                self.manager.current = "technician"  # where the countdown is shown
            return
        if self._technician is not None:
            self._technician = None
            self.technician.leave()
        if view.state is SessionState.IDENTIFIED and view.identity is not None:
            self.pin.clear()
            self.enrol.clear()
            self.home.render(view)
            if view.identity.username != self._user:
                self._user = view.identity.username
                self._begin_jobs(view.identity.username)
                self.manager.current = "home"
            elif view.seconds_left is not None and self.manager.current in (
                    "job", "billing", "print3d_plate", *CREDIT_SCREENS):
                self.manager.current = "home"  # where the countdown is shown
            elif self.manager.current not in ("job", "release", "billing", *CREDIT_SCREENS,
                                              *PRINT3D_SCREENS):
                self.manager.current = "home"
            return
        if self._user is not None:
            self._user = None
            if self.flow is not None:
                self.flow.end()
            if self.print3d_flow is not None:
                self.print3d_flow.end()  # the print goes on: the follower keeps it
            self.print3d_panel.clear()
            self.plate.job = None
            self.print3d.clear()
            self.job.clear()
            self.release.clear()
            self.code_search.end()
            self.billing.clear()
            self.voucher_flow.end()
            self.voucher.clear()
            self.voucher_result.clear()
            self.topup_flow.end()
            self.topup_amount.clear()
            self.topup_qr.clear()
            self.topup_result.clear()
            self.home.set_balance(None)
        if self.manager.current == "pin":
            self.pin.render(view)
        elif self.manager.current == "technician_login":
            self.technician.login.render(view)
        elif self.manager.current == "enrol" and (
            view.state is SessionState.IDENTIFYING or view.enrol_card_hint is not None
        ):
            self.enrol.render(view)
        else:
            self.enrol.clear()
            self.home.render(SessionView(SessionState.IDLE))
            self.idle.render(view)
            self.manager.current = "idle"

    def _begin_jobs(self, username: str) -> None:
        if self.print3d_flow is not None:
            self.home.set_balance(None)
            self.print3d_panel.clear(self.tr("Looking for your 3D jobs…"))
            self.print3d_flow.begin(username)
            self._printer_tick()
        if self.flow is not None and self.home.jobs is not None:
            self.home.set_balance(None)
            self.home.jobs.clear(self.tr("Looking for your print jobs…"))
            self.flow.begin(username)

    # 3D printing -------------------------------------------------------------------

    def _pick_3d(self, job: Print3DJob) -> None:
        """A job picked: first the build-plate question."""
        self.plate.open(job)
        self.manager.current = "print3d_plate"

    def _release_3d(self, job: Print3DJob) -> None:
        flow = self.print3d_flow
        if flow is None or flow.releasing or self._user is None:
            return
        self.print3d.clear()
        self.manager.current = "print3d"
        flow.release(job)

    def _cancel_3d(self) -> None:
        if self.print3d_flow is not None:
            self.print3d_flow.cancel()

    def _print3d_done(self) -> None:
        self.print3d.clear()
        self.show_home()
        if self.print3d_flow is not None:
            self.print3d_flow.refresh()

    def _show_3d_progress(self) -> None:
        follower = self.terminal.follower
        busy = follower.busy if follower is not None else None
        if busy is not None and busy.username == self._user:
            self.print3d.render(busy)
            self.manager.current = "print3d"

    def _print3d_update(self, update: Print3DUpdate) -> None:
        """A release or follow update (Kivy thread): its details only for the user it is
        for, who may have left meanwhile; the printer's state for everyone."""
        if update.username == self._user:
            self.print3d.render(update)
            if update.balance is not None:
                self.home.set_balance(update.balance)
            if update.stage.final and self.print3d_flow is not None:
                self.print3d_flow.refresh()
        self._printer_tick()

    def _printer_tick(self) -> None:
        """The printer's state on the idle screen and beside the job list (memory only:
        the follower polls the printer on its own thread)."""
        follower = self.terminal.follower
        if follower is None:
            return
        busy = follower.busy
        status = follower.printer_status
        if busy is not None:
            state = self.tr("printing {percent} %", percent=round(busy.percent or 0))
        elif status is None:
            state = self.tr("printer not answering")
        elif status.state in ("idle", "completed", "cancelled"):
            state = self.tr("ready")
        elif status.state in ("printing", "paused"):
            state = self.tr("busy")
        else:
            state = self.tr("printer offline")
        self.idle.show_printer_state(state)
        own = busy is not None and busy.username == self._user
        self.print3d_panel.show_busy(busy, own)
