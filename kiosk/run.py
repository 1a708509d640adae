"""Start the kiosk window. Kivy reads its environment at import, so set it first."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from terminal.wiring import Terminal


def prepare_kivy_environment() -> None:
    """Keep Kivy from parsing our command line and from writing into the user's home."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONFIG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_CLIPBOARD", "dummy")  # a kiosk has no clipboard to share


def run_kiosk(terminal: Terminal) -> None:
    prepare_kivy_environment()
    from kivy.config import Config

    display = terminal.config.display
    Config.set("graphics", "width", str(display.width))
    Config.set("graphics", "height", str(display.height))
    Config.set("graphics", "fullscreen", "auto" if display.fullscreen else "0")
    from kiosk.app import KioskApp

    KioskApp(terminal).run()
