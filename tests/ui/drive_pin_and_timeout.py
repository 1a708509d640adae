"""UI scenario: username + PIN login on the on-screen keypad, then the idle timeout.

Usage: drive_pin_and_timeout.py BACKEND_URL. A wrong PIN is refused with the translated
message; the right one opens the home screen; untouched, the countdown appears and the
user is logged out with nothing of theirs left on screen.
"""

from __future__ import annotations

import sys

from harness import kiosk_config, run_scenario, screenshot, tap


def main(backend_url: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")
    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.app import KioskApp
    from terminal.wiring import build_terminal

    config = kiosk_config(backend_url, terminal={"idle_timeout_s": 10, "logout_warning_s": 5})
    app = KioskApp(build_terminal(config, DEMO_TERMINAL_TOKEN))

    def type_text(value: str) -> None:
        for char in value:
            tap(app.pin.keypad.keys[char])

    def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
        yield lambda: app.manager.current == "idle"
        tap(app.idle.pin_button)
        yield lambda: app.manager.current == "pin"
        type_text("bob")
        tap(app.pin.pin_box)
        type_text("9999")
        assert app.pin.pin_box.text.endswith("••••"), app.pin.pin_box.text
        tap(app.pin.login_button)
        yield lambda: "Wrong username or PIN" in app.pin.status.text
        screenshot("pin-wrong")
        assert app.pin.pin == "", "a refused PIN must not stay in memory"
        tap(app.pin.pin_box)
        type_text("2345")
        tap(app.pin.login_button)
        yield lambda: app.manager.current == "home"
        assert app.home.greeting.text == "Hello, Bob Dupont", app.home.greeting.text
        yield lambda: "Logging out in" in app.home.countdown.text
        screenshot("idle-countdown")
        yield lambda: app.manager.current == "idle"
        assert app.home.greeting.text == ""
        assert app.pin.username == "" and app.pin.pin == ""

    return run_scenario(app, scenario, timeout_s=30)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
