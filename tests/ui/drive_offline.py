"""UI scenario: the backend goes away under the kiosk.

Usage: drive_offline.py WORK_DIR. Starts its own demo backend, badges Alice online (which
caches her for offline use), logs out, kills the backend, then checks the offline banner,
that Alice is still served from the cache with her balance's age shown, and that a card
never seen on this kiosk is refused with the offline message.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness import kiosk_config, run_scenario, screenshot, tap


def main(work_dir: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "1024")
    Config.set("graphics", "height", "600")
    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.app import KioskApp
    from printkiosk.commands.demo import free_port, start_demo_backend
    from terminal.ports import DemoCard
    from terminal.wiring import build_terminal

    port = free_port()
    backend = start_demo_backend(port, Path(work_dir))
    config = kiosk_config(
        f"http://127.0.0.1:{port}",
        state_dir=str(Path(work_dir) / "kiosk"),
        backend={"heartbeat_s": 5, "retries": 0},
        offline={"spending_limit": "3.00"},
    )
    app = KioskApp(build_terminal(config, DEMO_TERMINAL_TOKEN,
                                  demo_cards=[DemoCard("1001", "Alice")]))

    def present(number: str) -> None:
        app.idle.card_input.text = number
        tap(app.idle.present_button)

    def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
        yield lambda: app.manager.current == "idle"
        assert app.offline_banner.opacity == 0, "online at start: no banner"
        present("1001")
        yield lambda: app.manager.current == "home"
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"
        backend.terminate()
        backend.wait(timeout=10)
        yield lambda: app.offline_banner.opacity == 1
        assert "Offline" in app.offline_banner.text
        screenshot("offline-idle")
        present("1002")
        yield lambda: "not been seen recently" in app.idle.status.text
        present("1001")
        yield lambda: app.manager.current == "home"
        # in Alice's profile language, remembered with her card by the offline cache
        yield lambda: "solde confirmé il y a" in app.home.countdown.text
        assert app.home.greeting.text.startswith("Bonjour, Alice Martin")
        screenshot("offline-home")
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"

    try:
        return run_scenario(app, scenario, timeout_s=30)
    finally:
        if backend.poll() is None:
            backend.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
