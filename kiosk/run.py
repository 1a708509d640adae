"""Start the kiosk window. Kivy reads its environment at import, so set it first."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from terminal.wiring import RestartFailed, Terminal


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
              demo_enrolment_key: Callable[[], str | None] | None = None) -> None:
    """The window for the core ``factory`` builds; a technician's saved change makes
    the app ask the factory for a new core, in this process."""
    prepare_kivy_environment()
    from kivy.config import Config

    terminal = factory.build()
    display = terminal.config.display
    Config.set("graphics", "width", str(display.width))
    Config.set("graphics", "height", str(display.height))
    Config.set("graphics", "fullscreen", "auto" if display.fullscreen else "0")
    from kiosk.app import KioskApp

    KioskApp(terminal, factory=factory, demo_enrolment_key=demo_enrolment_key).run()
