"""UI scenario: the demo exactly as a new user gets it (issue 11's "done when").

Usage: drive_demo_paths.py DATA_DIR. Starts what ``printkiosk demo`` starts — the demo
backend with its demo data, the private CUPS server with the demo's held jobs — and the
kiosk built by the demo's own :func:`demo_kiosk_config` from the shipped
``config/kiosk-mfp.toml``. Then, as a person would: the idle screen lists the demo cards
and PIN logins; Alice (card 1001, profile French) sees her free thesis and her paid
slides in French; *Tout imprimer*, no billing code, prints both; the ledger holds one
0.00 capture and one 0.25 capture for her and nothing held. Exit status 0 when every check held.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from harness import run_scenario, screenshot, tap

THESIS, SLIDES = "Thesis chapter 2", "Lab slides"


def main(data_dir: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")
    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.app import KioskApp
    from printkiosk.commands.demo import (
        demo_cards,
        demo_kiosk_config,
        free_port,
        start_demo_backend,
        start_demo_printer,
        stop_demo_backend,
    )
    from printkiosk.commands.demo_snmp import start_demo_snmp
    from terminal.backend_client import HttpBackend
    from terminal.release import Settlement, Stage
    from terminal.wiring import build_terminal

    base = Path(data_dir)
    base.mkdir(parents=True, exist_ok=True)  # what demo_data_dir() does for the demo
    port = free_port()
    backend = start_demo_backend(port, base)
    printer = start_demo_printer(base)
    # the demo's SNMP agent too, as `printkiosk demo` runs it: its recorded counter never
    # moves, and with it every demo job once printed "nothing" and was free
    snmp = start_demo_snmp(base / "snmp")
    try:
        config = demo_kiosk_config(port, base, printer, snmp=snmp)
        assert config.printer.snmp.enabled
        terminal = build_terminal(config, DEMO_TERMINAL_TOKEN, demo_cards=demo_cards())
        ledger = HttpBackend(f"http://127.0.0.1:{port}", DEMO_TERMINAL_TOKEN)
        ledger.identify_card("1001")  # the test's own reader: a session of alice's
        start = ledger.balance("alice")
        app = KioskApp(terminal)

        def listed(count: int) -> bool:
            jobs = app.home.jobs.jobs
            return app.manager.current == "home" and jobs is not None and len(jobs.jobs) == count

        def text_of(screen: object) -> str:
            return " ".join(str(getattr(w, "text", ""))
                            for w in screen.walk(restrict=True))  # type: ignore[attr-defined]

        def released() -> bool:
            return app.manager.current == "release" and not app.release.done_button.disabled

        def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
            yield lambda: app.manager.current == "idle"
            hint = app.idle.demo_hint.text
            for expected in ("1001 Alice Martin", "alice 1234"):
                assert expected in hint, (expected, hint)
            screenshot("demo-idle")
            app.idle.card_input.text = "1001"
            tap(app.idle.present_button)
            yield lambda: listed(2)
            assert app.home.greeting.text == "Bonjour, Alice Martin", app.home.greeting.text
            prices = {job.name: job.amount for job in app.home.jobs.jobs.jobs}
            assert prices == {THESIS: Decimal("0.00"), SLIDES: Decimal("0.25")}, prices
            assert "Tout imprimer (2)" in text_of(app.home), text_of(app.home)
            screenshot("demo-alice-home-fr")
            tap(app.home.jobs.print_all_button)
            # the demo asks for a billing code; Alice prints for herself
            yield lambda: app.manager.current == "billing"
            screenshot("demo-alice-billing-code-fr")
            tap(app.billing.no_code_button)
            yield released
            finals = {u.name: u for u in app.release.updates.values()}
            for name, amount in ((THESIS, "0.00"), (SLIDES, "0.25")):
                final = finals[name]
                assert final.stage is Stage.CHARGED, final
                assert final.settlement is Settlement.CHARGED, final
                assert final.charged == Decimal(amount), final
            assert app.release.heading.text == "Impression terminée", app.release.heading.text
            screenshot("demo-alice-printed-fr")
            after = ledger.balance("alice")
            assert after.held == Decimal("0.00"), after
            assert after.available == start.available - Decimal("0.25"), (start, after)
            tap(app.release.done_button)
            yield lambda: listed(0)
            tap(app.home.logout_button)
            yield lambda: app.manager.current == "idle"
            assert app.idle.heading.text == "Present your card to the reader"

        return run_scenario(app, scenario, timeout_s=60)
    finally:
        snmp.close()
        printer.close()
        stop_demo_backend(backend)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
