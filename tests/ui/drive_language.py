"""UI scenario: the session's language, at 800x480 (issue 11, item 6).

Usage: drive_language.py BACKEND_URL. The idle screen speaks the kiosk's default
(English) with the current language marked, and lists the demo cards with their PIN
logins. French tapped on the idle screen does not stick: Bob (profile English) is served
in English; he switches to French on his home screen, which marks it; after logout the
idle screen is English again; Alice (profile French) is served in French. Screenshots go
to the test-artifacts folder. Exit status 0 when every check held.
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
    from printkiosk.commands.demo import demo_cards
    from terminal.wiring import build_terminal

    # a kiosk with no print queue: no job list at all, which it must say
    config = kiosk_config(backend_url, printer={"queue": None})
    app = KioskApp(build_terminal(config, DEMO_TERMINAL_TOKEN, demo_cards=demo_cards()))

    def badge(number: str) -> None:
        app.idle.card_input.text = number
        tap(app.idle.present_button)

    def marked(switch: object) -> str | None:
        return switch.current  # type: ignore[attr-defined, no-any-return]

    def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
        yield lambda: app.manager.current == "idle"
        assert app.idle.heading.text == "Present your card to the reader"
        assert marked(app.idle.languages) == "en"
        hint = app.idle.demo_hint.text
        for expected in ("1001 Alice Martin", "alice 1234", "bob 2345", "carol 3456",
                         "1009 Tess Technician", "tess 9012"):  # the demo technician
            assert expected in hint, (expected, hint)
        screenshot("language-idle-en-800x480")
        tap(app.idle.language_buttons["fr"])
        yield lambda: "Présentez" in app.idle.heading.text
        assert marked(app.idle.languages) == "fr"
        screenshot("language-idle-fr-800x480")

        badge("1002")  # Bob's profile says English: the idle tap was not his choice
        yield lambda: app.manager.current == "home"
        assert app.home.greeting.text == "Hello, Bob Dupont", app.home.greeting.text
        assert marked(app.home.languages) == "en"
        # this kiosk has no print queue: it says so rather than list nothing
        assert "cannot list or price print jobs" in app.home.no_jobs.text, app.home.no_jobs.text
        screenshot("language-home-profile-en-800x480")
        tap(app.home.languages.buttons["fr"])
        yield lambda: app.home.greeting.text == "Bonjour, Bob Dupont"
        assert marked(app.home.languages) == "fr" and app.home.logout_button.text != "Log out"
        screenshot("language-home-switched-fr-800x480")
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"
        assert app.idle.heading.text == "Present your card to the reader", app.idle.heading.text
        assert marked(app.idle.languages) == "en"

        badge("1001")  # Alice's profile says French
        yield lambda: app.manager.current == "home"
        assert app.home.greeting.text == "Bonjour, Alice Martin", app.home.greeting.text
        assert marked(app.home.languages) == "fr"
        screenshot("language-home-profile-fr-800x480")
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"
        assert app.idle.heading.text == "Present your card to the reader", app.idle.heading.text

    return run_scenario(app, scenario)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
