"""UI scenario: a required billing code, picked from the recent ones, goes with the hold.

Usage: drive_billing_code.py BACKEND_URL CUPS_PORT SPOOL_DIR STATE_DIR. The pytest side
imported billing codes into its backend, charged carol once to GLOBEX-AUDIT (so it is
her recent code) and held ``cups__document-a4.pdf`` twice for carol (the second titled
``second-a4.pdf``). With ``billing_code = "required"``: "Print this job" opens the
picker with the recent code first and no "No code"; search as you type narrows to
ACME's codes, shown as client › project; back to the recent code, tapped: the job is
released and charged to it. Then, at 800x480 and with the code optional, the picker is
shot again, and in French "No code" releases the second job. Screenshots go to the
test-artifacts folder. Exit status 0 when every check held.
"""

from __future__ import annotations

import sys

from harness import kiosk_config, run_scenario, screenshot, tap

A4 = "cups__document-a4.pdf"


def main(backend_url: str, cups_port: str, spool_dir: str, state_dir: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "1024")
    Config.set("graphics", "height", "600")
    from kivy.core.window import Window

    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.app import KioskApp
    from terminal.release import Stage
    from terminal.wiring import build_terminal

    config = kiosk_config(backend_url, state_dir=state_dir, cups_port=cups_port,
                          spool_dir=spool_dir, terminal={"billing_code": "required"})
    app = KioskApp(build_terminal(config, DEMO_TERMINAL_TOKEN))
    picker = app.billing

    def all_text(screen: object) -> str:
        return " ".join(
            str(getattr(w, "text", "")) for w in screen.walk(restrict=True)  # type: ignore[attr-defined]
        )

    def listed(count: int) -> bool:
        jobs = app.home.jobs.jobs
        return app.manager.current == "home" and jobs is not None and len(jobs.jobs) == count

    def codes_shown(*codes: str) -> bool:
        return app.manager.current == "billing" and list(picker.code_buttons) == list(codes) \
            and "Looking" not in picker.caption.text

    def type_text(value: str):  # type: ignore[no-untyped-def]
        """One key at a time, each answered before the next, as a person types."""
        for char in value:
            expected = picker.query[:-1] if char == "⌫" else picker.query + char
            tap(picker.keypad.keys[char])
            yield lambda expected=expected: picker.query == expected

    def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
        yield lambda: app.manager.current == "idle"
        app.idle.card_input.text = "1003"
        tap(app.idle.present_button)
        yield lambda: listed(2)
        a4 = next(job for job in app.home.jobs.jobs.jobs if job.name == A4)
        tap(app.home.jobs.open_buttons[a4.job_id])
        yield lambda: app.manager.current == "job"
        tap(app.job.print_button)
        yield lambda: codes_shown("GLOBEX-AUDIT")  # her recent code, first
        assert picker.no_code_button.disabled and picker.no_code_button.parent is None
        assert "recent" in picker.caption.text, picker.caption.text
        label = picker.code_buttons["GLOBEX-AUDIT"].text
        assert label == "[b]Globex › Annual audit[/b]\nGLOBEX-AUDIT", label
        assert picker.keypad.height == 0  # the list has the room until the user searches
        assert min(b.height for b in picker.code_buttons.values()) >= 64
        screenshot("billing-picker-recent-1024x600")
        tap(picker.search_box)
        yield lambda: picker.keypad.height > 0
        yield from type_text("acme")
        yield lambda: codes_shown("ACME", "ACME-PRINT", "ACME-WEB")
        text = all_text(picker)
        for expected in ("ACME Corp › Print campaign", "ACME Corp › Website redesign",
                         "Billing codes starting with “acme”"):
            assert expected in text, (expected, text)
        assert min(key.height for key in picker.keypad.keys.values()) >= 64
        screenshot("billing-picker-search-1024x600")
        yield from type_text("-z")
        yield lambda: codes_shown() and "No billing code" in picker.caption.text
        yield from type_text("⌫" * 6)
        yield lambda: codes_shown("GLOBEX-AUDIT")
        tap(picker.code_buttons["GLOBEX-AUDIT"])
        assert app.release.heading.text == "Printing — charged to GLOBEX-AUDIT", \
            app.release.heading.text
        yield lambda: app.manager.current == "release" and not app.release.done_button.disabled
        [final] = app.release.updates.values()
        assert final.stage is Stage.CHARGED, final
        assert picker.quotes == []  # the pick is over: nothing of it stays behind
        tap(app.release.done_button)
        yield lambda: listed(1)

        # the same picker on a 7-inch panel, while typing, then with "No code" allowed
        Window.size = (800, 480)
        yield lambda: Window.width == 800
        tap(app.home.jobs.print_all_button)
        yield lambda: codes_shown("GLOBEX-AUDIT")
        tap(picker.search_box)
        yield lambda: picker.keypad.height > 0
        yield from type_text("a")
        yield lambda: codes_shown("ACME", "ACME-PRINT", "ACME-WEB", "GLOBEX-AUDIT")
        assert min(key.height for key in picker.keypad.keys.values()) >= 64
        assert min(key.width for key in picker.keypad.keys.values()) >= 64
        screenshot("billing-picker-search-800x480")
        tap(picker.back_button)
        yield lambda: listed(1)
        app.billing_code_mode = "optional"
        tap(app.home.jobs.print_all_button)
        yield lambda: codes_shown("GLOBEX-AUDIT") and not picker.no_code_button.disabled
        screenshot("billing-picker-optional-800x480")
        tap(picker.back_button)
        yield lambda: listed(1)
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"
        assert picker.codes == [] and picker.quotes == []

        # in French (carol's profile is English: she switches), then "No code": the
        # second job is printed charged to no code
        app.idle.card_input.text = "1003"
        tap(app.idle.present_button)
        yield lambda: listed(1)
        tap(app.home.languages.buttons["fr"])
        yield lambda: "Bonjour" in app.home.greeting.text
        tap(app.home.jobs.print_all_button)
        yield lambda: codes_shown("GLOBEX-AUDIT")
        assert picker.no_code_button.text == "Sans code", picker.no_code_button.text
        assert "récents" in picker.caption.text, picker.caption.text
        screenshot("billing-picker-fr-800x480")
        tap(picker.no_code_button)
        assert app.release.heading.text == "Impression en cours", app.release.heading.text
        yield lambda: app.manager.current == "release" and not app.release.done_button.disabled
        assert app.release.heading.text == "Impression terminée", app.release.heading.text
        tap(app.release.done_button)
        yield lambda: listed(0)
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"

    return run_scenario(app, scenario, timeout_s=40)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
