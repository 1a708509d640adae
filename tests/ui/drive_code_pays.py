"""UI scenario: a billing code its client pays, against the real backend (item 5).

Usage: drive_code_pays.py BACKEND_URL CUPS_PORT SPOOL_DIR STATE_DIR. The pytest side
imported codes whose client ACME pays (``payer = code``) and held
``cups__document-a4.pdf`` for carol. With ``billing_code = "required"``: the picker says
ACME-WEB is paid by ACME Corp before anything is released; the release heading says the
balance is not used; once charged, the summary says so and no balance on screen (release
or home) has gone down, and the backend agrees. Exit status 0 when every check held.
"""

from __future__ import annotations

import sys

from harness import kiosk_config, run_scenario, screenshot, tap


def main(backend_url: str, cups_port: str, spool_dir: str, state_dir: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")
    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.app import KioskApp
    from terminal.backend_client import HttpBackend
    from terminal.release import Stage
    from terminal.wiring import build_terminal

    config = kiosk_config(backend_url, state_dir=state_dir, cups_port=cups_port,
                          spool_dir=spool_dir, terminal={"billing_code": "required"})
    ledger = HttpBackend(backend_url, DEMO_TERMINAL_TOKEN)
    ledger.identify_card("1003")  # the test's own reader: a session of carol's
    before = ledger.balance("carol")
    app = KioskApp(build_terminal(config, DEMO_TERMINAL_TOKEN))
    picker = app.billing
    shown_available = f"€{before.available:,.2f}"

    def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
        yield lambda: app.manager.current == "idle"
        app.idle.card_input.text = "1003"
        tap(app.idle.present_button)
        yield lambda: app.home.jobs.jobs is not None and len(app.home.jobs.jobs.jobs) == 1
        tap(app.home.jobs.print_all_button)
        yield lambda: app.manager.current == "billing" and "Looking" not in picker.caption.text
        tap(picker.search_box)
        yield lambda: picker.keypad.height > 0
        for char in "acme-w":
            expected = picker.query + char
            tap(picker.keypad.keys[char])
            yield lambda expected=expected: picker.query == expected
        yield lambda: list(picker.code_buttons) == ["ACME-WEB"] \
            and "Looking" not in picker.caption.text
        assert picker.codes[0].payer == "code", picker.codes
        label = picker.code_buttons["ACME-WEB"].text
        assert "ACME-WEB — ACME Corp pays, not you" in label, label
        screenshot("code-pays-picker-800x480")
        tap(picker.code_buttons["ACME-WEB"])
        assert app.release.heading.text == \
            "Printing — charged to ACME-WEB, not to your balance", app.release.heading.text
        yield lambda: app.manager.current == "release" and not app.release.done_button.disabled
        [final] = app.release.updates.values()
        assert final.stage is Stage.CHARGED and final.charged, final
        summary = app.release.summary.text
        assert "Your balance was not used." in summary, summary
        assert f"charged to ACME-WEB: €{final.charged}" in summary, summary
        assert "New balance" not in summary and app.release.balance_line.text == "", summary
        screenshot("code-pays-charged-800x480")
        tap(app.release.done_button)
        yield lambda: app.manager.current == "home" and app.home.jobs.jobs is not None \
            and not app.home.jobs.jobs.jobs
        assert app.home.rows["Available"][1].text == shown_available, \
            app.home.rows["Available"][1].text
        after = ledger.balance("carol")
        assert (after.available, after.held) == (before.available, before.held), after
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"

    try:
        return run_scenario(app, scenario, timeout_s=40)
    finally:
        ledger.close()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
