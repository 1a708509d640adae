"""The Kivy application: screens driven by the terminal's session controller.

The controller calls back from worker threads; every view is handed to the Kivy thread
with ``Clock.schedule_once`` and the screens render it there. The idle timeout is a
once-a-second tick into the controller, which alone decides when to log out.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.i18n import Translator
from kiosk.screens import HomeScreen, IdleScreen, PinScreen
from terminal.session import SessionState, SessionView
from terminal.wiring import Terminal


class KioskApp(App):
    """One kiosk window for one terminal."""

    title = "printkiosk"

    def __init__(self, terminal: Terminal, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.terminal = terminal
        config = terminal.config
        self.default_language = config.terminal.language
        self.tr = Translator(self.default_language)
        self.manager = ScreenManager(transition=NoTransition())
        self.idle = IdleScreen(
            terminal.session,
            self.tr,
            printer_name=config.printer.name,
            terminal_name=config.terminal.name,
            demo_cards=terminal.demo_cards,
            typed_card=terminal.typed_card,
            on_language=self.choose_language,
            on_pin_login=self.show_pin_login,
        )
        self.home = HomeScreen(terminal.session, self.tr)
        self.pin = PinScreen(terminal.session, self.tr, on_cancel=self.show_idle)
        for screen in (self.idle, self.home, self.pin):
            self.manager.add_widget(screen)

    def build(self) -> ScreenManager:
        self.terminal.session.subscribe(self._from_worker)
        self.terminal.start()
        Window.bind(on_touch_down=lambda *_: self.terminal.session.touch())
        Clock.schedule_interval(lambda _dt: self.terminal.session.tick(), 1.0)
        return self.manager

    def on_stop(self) -> None:
        self.terminal.close()

    def show_pin_login(self) -> None:
        self.pin.clear()
        self.manager.current = "pin"

    def show_idle(self) -> None:
        self.manager.current = "idle"

    def choose_language(self, language: str) -> None:
        """Language picked on the idle screen: applies to the next session."""
        self.tr.set_language(language)
        self.default_language = language
        for screen in (self.idle, self.home, self.pin):
            screen.retranslate()

    def _from_worker(self, view: SessionView) -> None:
        Clock.schedule_once(lambda _dt: self.render(view))

    def render(self, view: SessionView) -> None:
        if view.state is SessionState.IDENTIFIED:
            self.pin.clear()
            self.home.render(view)
            self.manager.current = "home"
        elif self.manager.current == "pin":
            self.pin.render(view)
        else:
            self.home.render(SessionView(SessionState.IDLE))
            self.idle.render(view)
            self.manager.current = "idle"
