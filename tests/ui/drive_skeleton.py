"""UI scenario for the walking skeleton, run in its own process (one Kivy window each).

Usage: drive_skeleton.py BACKEND_URL. Presents demo card 1001 by typing it and tapping
*Present*, checks the name and balances on the home screen (English, then French), logs
out by tapping, and checks nothing of the user stays on screen. Alice's profile
language is French: her session starts in French and she switches to English. Screenshots go to the
test-artifacts folder. Exit status 0 when every check held.
"""

from __future__ import annotations

import sys

from harness import kiosk_config, run_scenario, screenshot, tap


def main(backend_url: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "1024")
    Config.set("graphics", "height", "600")
    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.app import KioskApp
    from printkiosk.commands.demo import demo_cards
    from terminal.backend_client import HttpBackend
    from terminal.wiring import build_terminal

    config = kiosk_config(backend_url)
    # other tests share the backend and may have charged alice: the ledger says what she has
    reader = HttpBackend(backend_url, DEMO_TERMINAL_TOKEN)
    reader.identify_card("1001")  # the test's own reader: a session of alice's
    start = reader.balance("alice")
    cards = demo_cards()
    app = KioskApp(build_terminal(config, DEMO_TERMINAL_TOKEN, demo_cards=cards))

    def all_text(screen: object) -> str:
        return " ".join(
            str(getattr(w, "text", "")) for w in screen.walk(restrict=True)  # type: ignore[attr-defined]
        )

    def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
        yield lambda: app.manager.current == "idle"
        screenshot("skeleton-idle")
        app.idle.card_input.text = "1001"
        tap(app.idle.present_button)
        yield lambda: app.manager.current == "home"
        # Alice's profile says French; she switches to English on her home screen
        assert app.home.greeting.text == "Bonjour, Alice Martin", app.home.greeting.text
        tap(app.home.languages.buttons["en"])
        yield lambda: app.home.greeting.text == "Hello, Alice Martin"
        text = all_text(app.home)
        for amount in (f"€{start.virtual_credit:,.2f}", f"€{start.personal_credit:,.2f}",
                       f"€{start.available:,.2f}"):
            assert amount in text, (amount, text)
        # this kiosk's print server is not running: its problem is told in English too now
        # (it stayed in the French it was first shown in)
        assert "print server" in app.home.jobs.status.text, app.home.jobs.status.text
        screenshot("skeleton-home")
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"
        assert "Alice" not in all_text(app.home), all_text(app.home)
        assert "€" not in all_text(app.idle) + all_text(app.home)
        app.idle.card_input.text = "999999"
        tap(app.idle.present_button)
        yield lambda: "not known" in app.idle.status.text
        screenshot("skeleton-unknown-card")
        tap(app.idle.language_buttons["fr"])
        yield lambda: "Présentez" in app.idle.heading.text
        app.idle.card_input.text = "1001"
        tap(app.idle.present_button)
        yield lambda: app.manager.current == "home"
        text = all_text(app.home)
        assert "Bonjour, Alice Martin" in text, text
        available_fr = f"{start.available:.2f}".replace(".", ",") + "\u00a0€"
        assert available_fr in text, (available_fr, text)
        screenshot("skeleton-home-fr")
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"

    return run_scenario(app, scenario)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
