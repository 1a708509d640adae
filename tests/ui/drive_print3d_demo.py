"""UI scenario: the 3D demo for real — the demo backend with its uploaded 3D jobs, a real
OctoPrint with its virtual printer, the kiosk the demo builds (``demo_kiosk_3d_config``).

Usage: drive_print3d_demo.py DATA_DIR. Alice (French profile) sees her jobs in French,
the MK3S one blocked with its reason; she switches to English, prints the demo cube
(build plate, progress) to the end and is shown the grams charged, which are the
analysis's. Real touches at 800x480; screenshots in the test-artifacts folder.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from harness import run_scenario, screenshot, tap

THROTTLE_S = 0.02  # per move: the demo cube's 400 moves in about ten seconds


def main(data_dir: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")

    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.app import KioskApp
    from printkiosk.commands.demo import (
        demo_cards,
        demo_kiosk_3d_config,
        free_port,
        start_demo_backend,
        stop_demo_backend,
    )
    from printkiosk.commands.octoprint_peer import start_octoprint
    from terminal.print3d_values import Stage3D
    from terminal.wiring import build_terminal

    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    backend = start_demo_backend(port, data)
    octoprint = start_octoprint(data / "octoprint", throttle=THROTTLE_S)
    try:
        config = demo_kiosk_3d_config(port, data, octoprint, "en")
        app = KioskApp(build_terminal(config, DEMO_TERMINAL_TOKEN, demo_cards=demo_cards()))

        def all_text(screen: Any) -> str:
            return " ".join(str(getattr(w, "text", "")) for w in screen.walk(restrict=True))

        def stage() -> Any:
            update = app.print3d.update
            return None if update is None else update.stage

        def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
            yield lambda: app.manager.current == "idle" and "ready" in app.idle.where.text
            app.idle.card_input.text = "1001"
            tap(app.idle.present_button)
            yield lambda: app.manager.current == "home" and app.print3d_panel.jobs is not None
            text = all_text(app.home)
            for words in ("demo-cube.gcode", "bracket-mk3s.gcode", "Bloqué",
                          "Tranché pour une MK3S ; cette imprimante est une MK4"):
                assert words in text, (words, text)
            first = next(j for j in app.print3d_panel.jobs if j.name == "demo-cube.gcode")
            decimal_comma = f"{first.grams:.2f}".rstrip("0").rstrip(".").replace(".", ",")
            assert f"{decimal_comma} g · " in text, (decimal_comma, text)  # 0,97 g in French
            screenshot("print3d-demo-list-fr")
            tap(app.home.languages.buttons["en"])
            yield lambda: "Blocked" in all_text(app.home)
            cube = next(j for j in app.print3d_panel.jobs if j.name == "demo-cube.gcode")
            tap(app.print3d_panel.print_buttons[cube.job_id])
            yield lambda: app.manager.current == "print3d_plate"
            tap(app.plate.confirm_button)
            yield lambda: stage() is Stage3D.PRINTING and (app.print3d.update.percent or 0) > 20
            text = all_text(app.print3d)
            assert "°C" in text and " left" in text, text  # OctoPrint gives no time left here
            assert app.print3d.bar.opacity == 1 and app.print3d.bar.value > 20
            screenshot("print3d-demo-progress")
            yield lambda: stage() is Stage3D.FINISHED
            text = all_text(app.print3d)
            grams = app.tr.number(cube.grams)
            assert "Finished. Charged €" in text and f"for {grams} g." in text, (grams, text)
            assert "New balance" in text, text
            screenshot("print3d-demo-finished")

        return run_scenario(app, scenario, timeout_s=90)
    finally:
        octoprint.stop()
        stop_demo_backend(backend)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
