"""Start the kiosk window. Kivy reads its environment at import, so set it first."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from terminal.wiring import RestartFailed, Terminal

# How often the Kivy clock calls the heartbeat; the heartbeat itself decides when a
# watchdog ping is due (systemd_notify.Watchdog), this only bounds how late it can be.
HEARTBEAT_TICK_S = 0.5


class TerminalSource(Protocol):
    """What builds the terminal core from its kiosk file, and builds it again after a
    technician's change (``terminal.wiring.TerminalFactory``): ``restart`` answers the
    new Terminal, or a RestartFailed with ``problems`` and the old file's ``terminal``."""

    def build(self) -> Terminal: ...

    def restart(self, terminal: Terminal) -> Terminal | RestartFailed: ...  # started


def prepare_kivy_environment() -> None:
    """Keep Kivy from parsing our command line and from writing into the user's home."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONFIG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_CLIPBOARD", "dummy")  # a kiosk has no clipboard to share


class ConfigTerminals:
    """A core from an in-memory configuration (the 3D demo's): built again the same
    way on a restart, started like the factory's."""

    def __init__(self, build: Callable[[], Terminal]) -> None:
        self._build = build

    def build(self) -> Terminal:
        return self._build()

    def restart(self, terminal: Terminal) -> Terminal:
        terminal.close()
        fresh = self._build()
        fresh.start()
        return fresh


def run_kiosk(factory: TerminalSource,
              demo_enrolment_key: Callable[[], str | None] | None = None,
              heartbeat: Callable[[], None] | None = None) -> None:
    """The window for the core ``factory`` builds; a technician's saved change makes
    the app ask the factory for a new core, in this process. ``heartbeat`` (systemd's
    watchdog) is called once the first frame is on screen, then from the Kivy clock: a
    frozen UI loop stops calling it, and systemd restarts the kiosk. SIGTERM (``systemctl
    stop``) closes the app as its window would, so the terminal core closes too."""
    prepare_kivy_environment()
    from kivy.config import Config

    terminal = factory.build()
    display = terminal.config.display
    Config.set("graphics", "width", str(display.width))
    Config.set("graphics", "height", str(display.height))
    Config.set("graphics", "fullscreen", "auto" if display.fullscreen else "0")
    from kiosk.app import KioskApp

    app = KioskApp(terminal, factory=factory, demo_enrolment_key=demo_enrolment_key)
    _stop_on_sigterm(app)
    if heartbeat is not None:
        _beat_from_first_frame(heartbeat)
    app.run()


def _beat_from_first_frame(heartbeat: Callable[[], None]) -> None:
    """Beat after the first frame is flipped to the screen, then every tick."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    def first_frame(*_args: Any) -> None:
        Window.unbind(on_flip=first_frame)
        heartbeat()
        Clock.schedule_interval(lambda _dt: heartbeat(), HEARTBEAT_TICK_S)

    Window.bind(on_flip=first_frame)


def _stop_on_sigterm(app: Any) -> None:
    """The handler runs on the Kivy (main) thread between two bytecodes: leave the
    stop to the next clock tick rather than closing the app in the middle of a frame."""
    from kivy.clock import Clock

    signal.signal(signal.SIGTERM,
                  lambda _signum, _frame: Clock.schedule_once(lambda _dt: app.stop(), 0))
