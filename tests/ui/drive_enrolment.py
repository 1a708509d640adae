"""UI scenario: an unknown card is associated with Bob's account, then identifies him.

Usage: drive_enrolment.py BACKEND_URL CARD. The card is refused as unknown and the idle
screen offers to associate it; on the enrolment screen (masked card only) a wrong PIN is
refused with the translated message and the card stays unknown; bob/2345 links it and
logs Bob in; after logout the same card logs him in directly. Runs at 800x480, and the
enrolment screen is also shot at 1024x600. Exit status 0 when every check held.
"""

from __future__ import annotations

import sys

from harness import kiosk_config, run_scenario, screenshot, tap


def main(backend_url: str, card: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")
    from kivy.core.window import Window

    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.app import KioskApp
    from terminal.backend_client import HttpBackend
    from terminal.ports import BackendRejected
    from terminal.wiring import build_terminal

    app = KioskApp(build_terminal(kiosk_config(backend_url), DEMO_TERMINAL_TOKEN))
    backend = HttpBackend(backend_url, DEMO_TERMINAL_TOKEN)

    def all_text(screen: object) -> str:
        return " ".join(
            str(getattr(w, "text", "")) for w in screen.walk(restrict=True)  # type: ignore[attr-defined]
        )

    def card_unknown() -> bool:
        try:
            backend.identify_card(card)
        except BackendRejected as exc:
            return exc.code == "card_unknown"
        return False

    def badge() -> None:
        app.idle.card_input.text = card
        tap(app.idle.present_button)

    def type_text(value: str) -> None:
        for char in value:
            tap(app.enrol.keypad.keys[char])

    def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
        yield lambda: app.manager.current == "idle"
        assert not app.idle.enrol_offered
        badge()
        yield lambda: app.idle.enrol_offered
        assert "not known yet" in app.idle.status.text, app.idle.status.text
        assert app.idle.enrol_button.text == "Associate this card with my account"
        assert app.idle.enrol_button.height >= 64
        screenshot("enrol-offer-800x480")
        tap(app.idle.enrol_button)
        yield lambda: app.manager.current == "enrol"
        assert f"•••• {card[-2:]}" in app.enrol.heading.text, app.enrol.heading.text
        for screen in (app.idle, app.enrol):
            assert card not in all_text(screen)  # never the number in full
        type_text("bob")
        tap(app.enrol.pin_box)
        type_text("0000")
        yield lambda: app.enrol.username == "bob" and app.enrol.pin == "0000"  # drawn
        screenshot("enrol-form-800x480")
        tap(app.enrol.login_button)
        yield lambda: "Wrong username or PIN" in app.enrol.status.text
        assert app.manager.current == "enrol" and app.enrol.pin == ""
        assert card_unknown()
        screenshot("enrol-wrong-pin-800x480")
        Window.size = (1024, 600)
        yield lambda: Window.size == (1024, 600) or Window.width == 1024
        screenshot("enrol-wrong-pin-1024x600")
        Window.size = (800, 480)
        yield lambda: Window.width == 800
        type_text("2345")
        tap(app.enrol.login_button)
        yield lambda: app.manager.current == "home"
        assert "Hello, Bob Dupont" in all_text(app.home), all_text(app.home)
        assert not card_unknown()
        screenshot("enrol-home-800x480")
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"
        assert not app.idle.enrol_offered and "Bob" not in all_text(app.enrol)
        badge()
        yield lambda: app.manager.current == "home"
        assert "Hello, Bob Dupont" in all_text(app.home)
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"

    try:
        return run_scenario(app, scenario, timeout_s=30)
    finally:
        backend.close()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
