"""Technician mode at the kiosk: its screens, and what their buttons do with the desk.

The app hands a technician session here (:meth:`TechnicianScreens.enter`) and gets it
back at logout. A saved change is applied by the app (``restart``): it rebuilds the
terminal core from the file and these screens for the new core, then enters them
again with what happened (applied, or the reason it was not and the old file back).
Without a way to restart (a unit test's fake desk) the change is only saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

from kivy.clock import Clock
from kivy.uix.widget import Widget

from kiosk.i18n import Translator
from kiosk.technician_checks import (
    Action,
    ChecksScreen,
    backend_rows,
    card_rows,
    line,
    logs_rows,
    outbox_rows,
    snmp_rows,
    test_page_rows,
)
from kiosk.technician_flow import TechnicianFlow
from kiosk.technician_screens import (
    ConfirmScreen,
    TechnicianHomeScreen,
    TechnicianLoginScreen,
    TextEntryScreen,
)
from kiosk.technician_settings_screens import SettingEditScreen, SettingsScreen
from kiosk.widgets import ACCENT, DANGER, DANGER_TEXT, MUTED, OK, OK_TEXT, TEXT
from terminal.session import SessionController, SessionView
from terminal.technician_types import (
    CardCheck,
    EnrolResult,
    Saved,
    SaveRefused,
    SettingSpec,
    SettingValue,
    Technician,
    TechnicianDesk,
)

# (who asked, the msgid to show once applied, the lines to show with it)
Restart = Callable[[Technician, str, Sequence[str]], None]
DERIVE_PAIRS = 3
SHOWN_CARDS = 5


def change_lines(saved: Saved) -> list[str]:
    return [f"{key}: {old or '-'} -> {new or '-'}" for key, old, new in saved.changes]


# a number with more steps than this (a port: 65535) is typed; tapping + from 631 to
# 36945 is no way to set it
MAX_STEPS = 1000


def _too_many_steps(spec: SettingSpec) -> bool:
    if spec.kind != "number" or spec.minimum is None or spec.maximum is None:
        return False
    return (spec.maximum - spec.minimum) / (spec.step or 1) > MAX_STEPS


class TechnicianScreens:
    """The technician's screens for one terminal core, and their calls to its desk."""

    def __init__(self, tr: Translator, session: SessionController,
                 desk: TechnicianDesk | None, executor: Executor, terminal_name: str,
                 show: Callable[[str], None], restart: Restart | None = None,
                 demo_enrolment_key: Callable[[], str | None] | None = None,
                 typed_card: Callable[[str], None] | None = None) -> None:
        self._tr = tr
        # the simulated reader (demo): a card is "badged" by typing its number, as on
        # the idle screen, and goes through the reader's normalisation like a real read
        self._typed_card = typed_card
        self._session = session
        self._show = show
        self._restart = restart
        self._demo_key = demo_enrolment_key
        self.terminal_name = terminal_name
        self.flow = TechnicianFlow(desk, executor) if desk is not None else None
        self.technician: Technician | None = None
        self.login = TechnicianLoginScreen(session, tr, on_cancel=lambda: show("idle"))
        self.home = TechnicianHomeScreen(tr, on_settings=self.open_settings,
                                         on_checks=lambda: self.check("card"),
                                         on_restore=self.ask_restore, on_logout=session.logout,
                                         on_language=session.set_language)
        self.settings = SettingsScreen(tr, on_edit=self.edit, on_back=self.go_home)
        self.editor = SettingEditScreen(tr, on_save=self.save_one, on_cancel=self.open_settings)
        self.text = TextEntryScreen(tr)
        self.confirm = ConfirmScreen(tr)
        self.checks = ChecksScreen(tr, on_check=self.check, on_back=self.go_home)
        self._answers: dict[str, Any] = {}
        self.cards: list[CardCheck] = []
        self.pairs: list[tuple[str, str]] | None = None  # set while deriving
        self._stop_watch: Callable[[], None] | None = None
        self._watching = False

    @property
    def screens(self) -> list[Any]:
        return [self.login, self.home, self.settings, self.editor, self.text, self.confirm,
                self.checks]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(screen.name for screen in self.screens)

    # entering and leaving ------------------------------------------------------------

    def open_login(self) -> None:
        self.login.use_local(False)
        self._show("technician_login")

    def enter(self, technician: Technician) -> None:
        self.login.clear()
        self.technician = technician
        self.home.show(self.terminal_name, technician)
        self._show("technician")

    def leave(self) -> None:
        """The session ended: nothing of it stays on the screens."""
        self._stop_cards()
        if self.flow is not None:
            self.flow.end()
        self.technician = None
        self._answers.clear()
        self.cards.clear()
        self.pairs = None
        self.home.clear()
        self.settings.show(None)
        self.checks.show("", lambda: ([], []))

    def flow_end(self) -> None:
        """The core is being replaced: its reader and desk answers are not waited for."""
        self._stop_cards()
        if self.flow is not None:
            self.flow.end()

    def render(self, view: SessionView) -> None:
        self.home.render(view)

    def retranslate(self) -> None:
        for screen in self.screens:
            screen.retranslate()

    def go_home(self) -> None:
        self._stop_cards()
        self._show("technician")

    # settings --------------------------------------------------------------------------

    def _ask(self, call: Callable[[], Any], on_done: Callable[[Any], None],
             on_failed: Callable[[str], None] | None = None) -> None:
        if self.flow is None:
            self.home.say("This kiosk has no technician desk.", ok=False)
            return
        self.flow.run(call, on_done, on_failed or (
            lambda problem: self.home.say("It failed:", ok=False, lines=[problem])))

    def open_settings(self) -> None:
        self.settings.show(None)
        self._show("technician_settings")
        if self.flow is not None:
            desk = self.flow.desk
            self._ask(desk.settings, self.settings.show,
                      lambda problem: self.settings.show(None, problem))

    def edit(self, setting: SettingValue) -> None:
        spec = setting.spec
        if spec.kind in ("text", "secret") or _too_many_steps(spec):
            self.text.open(spec.label, setting.value,
                           on_ok=lambda value: self.save_one(spec.key, value),
                           on_cancel=self.open_settings, secret=spec.kind == "secret")
            self._show("technician_text")
            return
        self.editor.open(setting)
        self._show("technician_edit")
        if spec.kind == "choice" and spec.dynamic and self.flow is not None:
            desk = self.flow.desk
            self._ask(lambda: desk.choices(spec.key), self.editor.offer,
                      lambda problem: self.editor.refused([problem]))

    def save_one(self, key: str, value: str) -> None:
        self.save({key: value})

    def save(self, changes: Mapping[str, str]) -> None:
        technician, flow = self.technician, self.flow
        if technician is None or flow is None:
            return
        desk = flow.desk
        self._ask(lambda: desk.save(technician, dict(changes)), self._saved,
                  lambda problem: self._refused(SaveRefused((problem,))))

    def _refused(self, answer: SaveRefused) -> None:
        if self.technician is None:
            return
        if self._current_is("technician_text"):
            self.text.problem("\n".join(answer.problems))
        elif self._current_is("technician_edit"):
            self.editor.refused(answer.problems)
        else:
            self.home.say("Not saved: the file is unchanged.", ok=False, lines=answer.problems)
            self._show("technician")

    def _current_is(self, name: str) -> bool:
        manager = self.home.manager
        return manager is not None and manager.current == name

    def _saved(self, answer: Saved | SaveRefused) -> None:
        if isinstance(answer, SaveRefused):
            self._refused(answer)
            return
        self.applied(answer, "Saved.", "Saved and applied.")

    def applied(self, saved: Saved, heading: str, once_applied: str) -> None:
        """A change written (``heading``): say so, and have the core restarted to apply
        it (``once_applied`` is said then)."""
        technician = self.technician
        if technician is None:
            return
        lines = change_lines(saved)
        self._show("technician")
        if saved.restart and self._restart is not None:
            self.home.say("Applying…", lines=[self._tr(heading), *lines])
            self._restart(technician, once_applied, lines)
            return
        self.home.say(heading, lines=lines)

    def ask_restore(self) -> None:
        self.confirm.ask("Restore the previous settings? The current ones become the "
                         "previous version.", on_yes=self._restore, on_no=self.go_home)
        self._show("technician_confirm")

    def _restore(self) -> None:
        technician, flow = self.technician, self.flow
        if technician is None or flow is None:
            return
        self._show("technician")
        desk = flow.desk
        self._ask(lambda: desk.restore_previous(technician), self._restored)

    def _restored(self, answer: Saved | SaveRefused) -> None:
        if isinstance(answer, SaveRefused):
            self.home.say("Not restored:", ok=False, lines=answer.problems)
            return
        self.applied(answer, "Previous settings restored.",
                     "Previous settings restored and applied.")

    # checks ----------------------------------------------------------------------------

    def check(self, name: str) -> None:
        if name != "card":
            self._stop_cards()
        self._show("technician_checks")
        starts = {"card": self._start_cards, "snmp": self._probe, "backend": self._backend,
                  "outbox": self._outbox, "logs": self._logs}
        start = starts.get(name)
        if start is not None and name not in self._answers:
            start()
        self.checks.show(name, lambda: self._findings(name))

    def _findings(self, name: str) -> tuple[list[Widget], list[Action]]:
        tr = self._tr
        answer: Any = self._answers.get(name)
        rows: list[Widget]
        if isinstance(answer, str):
            rows = [line(answer, DANGER_TEXT)]
        elif answer is None and name in ("snmp", "backend", "outbox", "logs", "test_page"):
            rows = [line(tr("One moment…"), MUTED)] if name in self._answers else []
        elif name == "snmp":
            rows = snmp_rows(tr, answer)
        elif name == "backend":
            rows = backend_rows(tr, answer)
        elif name == "outbox":
            rows = outbox_rows(tr, answer)
        elif name == "logs":
            rows = logs_rows(answer)
            Clock.schedule_once(lambda _dt: setattr(self.checks.findings, "scroll_y", 0))
        elif name == "test_page":
            rows = test_page_rows(tr, answer)
        else:
            rows = []
        actions: dict[str, list[Action]] = {
            "snmp": [("Probe again", self._probe, ACCENT)],
            "backend": [("Check again", self._backend, ACCENT)],
            "outbox": [("Refresh", self._outbox, MUTED), ("Drain now", self._drain, OK)],
            "logs": [("Refresh", self._logs, ACCENT)],
            "test_page": [("Print a test page", self._test_page, OK)],
            "restart": [("Restart kiosk", self._ask_restart, ACCENT),
                        ("Reboot box", self._ask_reboot, DANGER)],
            "enrolment": [("Enter enrolment key", self._ask_key, OK)],
        }
        if name == "card":
            return self._card_findings()
        if name == "restart":
            rows = [line(tr("Restart the kiosk's core (settings read again), or reboot the box."),
                         MUTED)]
        if name == "enrolment":
            rows = self._enrolment_rows()
        return rows, actions.get(name, [])

    def _run_check(self, name: str, call: Callable[[], Any]) -> None:
        self._answers[name] = None
        self._refresh(name)

        def done(answer: Any) -> None:
            self._answers[name] = answer
            self._refresh(name)

        def failed(problem: str) -> None:
            self._answers[name] = problem
            self._refresh(name)

        self._ask(call, done, failed)

    def _refresh(self, name: str) -> None:
        if self.checks.current == name:
            self.checks.show(name, lambda: self._findings(name))

    def _probe(self) -> None:
        if self.flow is not None:
            self._run_check("snmp", self.flow.desk.probe_snmp)

    def _backend(self) -> None:
        if self.flow is not None:
            self._run_check("backend", self.flow.desk.check_backend)

    def _outbox(self) -> None:
        if self.flow is not None:
            self._run_check("outbox", self.flow.desk.outbox_status)

    def _drain(self) -> None:
        if self.flow is not None:
            self._run_check("outbox", self.flow.desk.drain_now)

    def _logs(self) -> None:
        if self.flow is not None:
            desk = self.flow.desk
            self._run_check("logs", lambda: desk.log_lines(200))

    def _test_page(self) -> None:
        technician = self.technician
        if self.flow is not None and technician is not None:
            desk = self.flow.desk
            self._run_check("test_page", lambda: desk.print_test_page(technician))

    # restart, reboot -------------------------------------------------------------------

    def _ask_restart(self) -> None:
        self.confirm.ask("Restart the kiosk now?", on_yes=self._restart_now,
                         on_no=lambda: self.check("restart"))
        self._show("technician_confirm")

    def _restart_now(self) -> None:
        technician = self.technician
        if technician is None or self._restart is None:
            self.home.say("This kiosk cannot restart itself.", ok=False)
            self._show("technician")
            return
        self.home.say("Restarting…")
        self._show("technician")
        self._restart(technician, "Restarted.", [])

    def _ask_reboot(self) -> None:
        self.confirm.ask("Reboot the box now? The kiosk is away for a minute or two.",
                         on_yes=self._reboot, on_no=lambda: self.check("restart"))
        self._show("technician_confirm")

    def _reboot(self) -> None:
        technician = self.technician
        if technician is None or self.flow is None:
            return
        self._show("technician")
        self.home.say("Rebooting…")
        desk = self.flow.desk
        self._ask(lambda: desk.reboot(technician), self._rebooted)

    def _rebooted(self, code: str | None) -> None:
        if code is not None:
            self.home.say("Not rebooted:", ok=False, lines=[self._tr.error(code)])

    # enrolment -------------------------------------------------------------------------

    def _enrolment_rows(self) -> list[Widget]:
        tr = self._tr
        rows: list[Widget] = [line(tr("Type the one-time enrolment key from the administrator."),
                                 MUTED)]
        key = self._demo_key() if self._demo_key is not None else None
        if key:
            rows.append(line(tr("Demo enrolment key:"), MUTED))
            rows.append(line(key, TEXT, size=15))
        answer = self._answers.get("enrolment")
        if isinstance(answer, EnrolResult) and answer.code is None:
            rows.append(line(tr("Enrolled as terminal {id}.", id=answer.terminal_id), OK_TEXT))
        return rows

    def _ask_key(self) -> None:
        self.text.open("Enrolment key", "", on_ok=self._enrol,
                       on_cancel=lambda: self.check("enrolment"))
        self._show("technician_text")

    def _enrol(self, key: str) -> None:
        technician, flow = self.technician, self.flow
        if technician is None or flow is None or not key.strip():
            return
        desk = flow.desk
        self._ask(lambda: desk.enrol(technician, key.strip()), self._enrolled,
                  lambda problem: self.text.problem(problem))

    def _enrolled(self, answer: EnrolResult) -> None:
        tr = self._tr
        if answer.code is not None:
            self.text.problem(tr.error(answer.code) + (f" ({answer.detail})"
                                                       if answer.detail else ""))
            return
        self._answers["enrolment"] = answer
        self.applied(Saved((("backend.token_file", "", "***"),)), "Enrolled.",
                     "Enrolled; the kiosk now uses its new token.")

    # the card reader ---------------------------------------------------------------------

    def _card_findings(self) -> tuple[list[Widget], list[Action]]:
        tr = self._tr
        rows = card_rows(tr, self.cards, len(self.pairs) if self.pairs is not None else None)
        proposal = self._answers.get("derive")
        actions: list[Action] = [("Derive normalisation", self._start_derive, ACCENT)]
        if self._typed_card is not None:
            actions.insert(0, ("Type a card number", self._type_card, ACCENT))
        if isinstance(proposal, str):
            rows.append(line(proposal, DANGER_TEXT))
        elif isinstance(proposal, Mapping):
            rows.append(line(tr("Proposed rule:"), OK_TEXT, bold=True))
            rows += [line(f"{key} = {value}") for key, value in proposal.items()]
            actions.append(("Save this rule", lambda: self.save(proposal), OK))
        return rows, actions

    def _type_card(self) -> None:
        typed = self._typed_card
        if typed is None:
            return

        def badge(number: str) -> None:
            self._back_to_cards()
            if number.strip():
                typed(number.strip())

        self.text.open("Card number", "", on_ok=badge, on_cancel=self._back_to_cards)
        self._show("technician_text")

    def _start_cards(self) -> None:
        if self._watching or self.flow is None:
            return
        self._watching = True
        self._answers["card"] = None
        desk = self.flow.desk
        self._ask(lambda: desk.watch_cards(self._from_reader), self._watch_started)

    def _watch_started(self, stop: Callable[[], None]) -> None:
        if self._watching:
            self._stop_watch = stop
        else:
            stop()  # left before the watch began

    def _stop_cards(self) -> None:
        self._watching = False
        self._answers.pop("card", None)
        if self._stop_watch is not None:
            stop, self._stop_watch = self._stop_watch, None
            stop()

    def _from_reader(self, card: CardCheck) -> None:
        """The reader's thread: to the Kivy thread."""
        Clock.schedule_once(lambda _dt: self._card(card))

    def _card(self, card: CardCheck) -> None:
        if not self._watching:
            return
        self._session.touch()
        self.cards = [card, *self.cards][:SHOWN_CARDS]
        if self.pairs is not None and card.error is None:
            count = len(self.pairs) + 1
            self.text.open("Card {n} of 3: type the number printed on it", "",
                           on_ok=lambda printed: self._printed(card.raw, printed),
                           on_cancel=self._back_to_cards, n=count)
            self._show("technician_text")
            return
        self._refresh("card")

    def _back_to_cards(self) -> None:
        self._show("technician_checks")
        self._refresh("card")

    def _start_derive(self) -> None:
        self.pairs = []
        self._answers.pop("derive", None)
        self._refresh("card")

    def _printed(self, raw: str, printed: str) -> None:
        if not printed.strip() or self.pairs is None:
            return
        self.pairs.append((raw, printed.strip()))
        self._back_to_cards()
        if len(self.pairs) >= DERIVE_PAIRS:
            pairs, self.pairs = list(self.pairs), None
            self._derive(pairs)

    def _derive(self, pairs: Sequence[tuple[str, str]]) -> None:
        derive = getattr(self.flow.desk, "derive_normalisation", None) if self.flow else None
        if derive is None:
            self._answers["derive"] = self._tr("This kiosk cannot derive a normalisation.")
            self._refresh("card")
            return

        def done(answer: Any) -> None:
            self._answers["derive"] = answer
            self._refresh("card")

        self._ask(lambda: derive(pairs), done, done)

