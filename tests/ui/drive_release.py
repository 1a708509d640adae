"""UI scenario: badge -> held jobs -> switch one to mono -> print all -> charged -> logout.

Usage: drive_release.py BACKEND_URL CUPS_PORT SPOOL_DIR STATE_DIR. The pytest side has
started cupsd + ippeveprinter and submitted, held, ``cups__document-a4.pdf`` and
``cups__onepage-letter.pdf`` for carol (card 1003) and ten copies of the A4 document
for bob (card 1002, 2.00 of credit). Every step is a real touch on the real window;
screenshots go to the test-artifacts folder. Exit status 0 when every check held.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal

from harness import kiosk_config, run_scenario, screenshot, tap, tap_at, window_centre

A4 = "cups__document-a4.pdf"
LETTER = "cups__onepage-letter.pdf"


def main(backend_url: str, cups_port: str, spool_dir: str, state_dir: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "1024")
    Config.set("graphics", "height", "600")
    from kivy.core.window import Window

    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.app import KioskApp
    from printkiosk.commands.demo import demo_cards
    from terminal.backend_client import HttpBackend
    from terminal.jobs import JobOptions
    from terminal.release import Stage
    from terminal.wiring import build_terminal

    config = kiosk_config(backend_url, state_dir=state_dir, cups_port=cups_port,
                          spool_dir=spool_dir)
    # other tests share the backend: the ledger, not a constant, says what carol has.
    # Prices are the backend's for each user: carol is staff (Staff 2026 list), bob is on
    # the campus list with his included mono pages.
    ledger = HttpBackend(backend_url, DEMO_TERMINAL_TOKEN)
    ledger.identify_card("1003")  # the test's own reader: a session of carol's
    start = ledger.balance("carol")
    cards = demo_cards()
    app = KioskApp(build_terminal(config, DEMO_TERMINAL_TOKEN, demo_cards=cards))

    def all_text(screen: object) -> str:
        return " ".join(
            str(getattr(w, "text", "")) for w in screen.walk(restrict=True)  # type: ignore[attr-defined]
        )

    def badge(number: str) -> None:
        app.idle.card_input.text = number
        tap(app.idle.present_button)

    def listed(count: int) -> bool:
        jobs = app.home.jobs.jobs
        return app.manager.current == "home" and jobs is not None and len(jobs.jobs) == count

    def job_id(name: str) -> int:
        return next(job.job_id for job in app.home.jobs.jobs.jobs if job.name == name)

    def released() -> bool:
        return app.manager.current == "release" and not app.release.done_button.disabled

    def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
        yield lambda: app.manager.current == "idle"
        badge("1003")
        yield lambda: listed(2)
        text = all_text(app.home)
        for expected in ("Hello, Carol Staff", "Virtual credit", f"€{start.virtual_credit}",
                         "Personal credit", f"€{start.personal_credit}", "4 pages · 2 in colour",
                         "€0.36", "1 page · 1 in colour", "€0.15", "Total: €0.51",
                         "Print all (2)"):
            assert expected in text, (expected, text)
        assert app.home.rows["Available"][1].text == f"€{start.available:,.2f}"
        screenshot("release-home")

        tap(app.home.jobs.open_buttons[job_id(A4)])
        yield lambda: app.manager.current == "job"
        text = all_text(app.job)
        assert "Colour, one-sided: €0.36" in text, text
        assert "Black & white, one-sided: €0.12 — you save €0.24" in text, text
        screenshot("release-detail")
        mono = JobOptions(colour=False, duplex=False)
        order = list(app.job.choice_buttons)
        finger = window_centre(app.job.choice_buttons[mono])
        tap_at(*finger)
        yield lambda: app.job.job is not None and not app.job.job.options.colour
        # a double tap: the same finger taps again where it was. The option there is
        # still mono, now marked as the choice, so nothing changes (the buttons used to
        # shift up and the second tap picked colour two-sided)
        tap_at(*finger)
        settle = time.monotonic() + 2.0
        yield lambda: time.monotonic() > settle
        assert app.job.job.options == mono, app.job.job.options
        assert list(app.job.choice_buttons) == order and len(order) == 4, order
        assert app.job.choice_buttons[mono].text == "Black & white, one-sided: €0.12 — your choice"
        text = all_text(app.job)
        assert "Colour, one-sided: €0.36 — costs €0.24 more" in text, text
        screenshot("release-detail-mono")
        tap(app.job.back_button)
        yield lambda: app.manager.current == "home" and "€0.27" in app.home.jobs.total.text
        assert "4 pages · 0 in colour\nBlack & white, one-sided" in all_text(app.home)
        assert "1 page · 1 in colour\nColour, one-sided" in all_text(app.home)

        tap(app.home.jobs.print_all_button)
        yield lambda: any(u.stage is Stage.PRINTING and u.held is not None
                          for u in app.release.updates.values())
        assert "held for printing" in app.release.balance_line.text, app.release.balance_line.text
        screenshot("release-printing")
        yield released
        finals = list(app.release.updates.values())
        assert [u.stage for u in finals] == [Stage.CHARGED, Stage.CHARGED], finals
        assert sum(u.charged or Decimal(0) for u in finals) == Decimal("0.27"), finals
        summary = app.release.summary.text
        before = start.available
        assert "Amount charged: €0.27" in summary, summary
        assert f"New balance: €{before - Decimal('0.27'):,.2f}" in summary, summary
        screenshot("release-charged")
        tap(app.release.done_button)
        yield lambda: listed(0)
        assert "no print jobs" in app.home.jobs.status.text
        assert app.home.rows["Held for printing"][1].text == "€0.00"
        assert app.home.rows["Available"][1].text == f"€{before - Decimal('0.27'):,.2f}"
        after = ledger.balance("carol")
        assert (after.available, after.held) == (before - Decimal("0.27"), Decimal("0.00"))
        screenshot("release-home-after")
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"
        for screen in (app.home, app.job, app.release):
            assert "Carol" not in all_text(screen) and A4 not in all_text(screen)

        badge("1002")
        yield lambda: listed(1)
        # ten copies of the A4 document, bob on the campus list: his 40 mono sides are
        # among his included pages, the 20 colour ones cost 0.25 each
        assert "€5.00" in all_text(app.home)
        tap(app.home.jobs.print_all_button)
        yield released
        [final] = app.release.updates.values()
        assert final.stage is Stage.INSUFFICIENT and final.missing == Decimal("3.00"), final
        text = all_text(app.release)
        assert "Not enough credit: €3.00 missing" in text, text
        assert "voucher" in app.release.help.text
        assert app.release.heading.text == "Not printed"
        assert "Nothing was charged." in app.release.summary.text
        screenshot("release-insufficient")
        tap(app.release.done_button)
        yield lambda: listed(1)
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"

        Window.size = (800, 480)  # the French texts are the longest: on the 7-inch panel
        yield lambda: Window.width == 800
        badge("1002")  # bob reads English (his profile): he switches to French
        yield lambda: listed(1)
        tap(app.home.languages.buttons["fr"])
        yield lambda: "Bonjour" in app.home.greeting.text and app.home.jobs.jobs is not None
        text = all_text(app.home)
        for expected in ("Crédit virtuel", "40 pages · 20 en couleur", "5,00\u00a0€",
                         "Tout imprimer (1)", "Total : 5,00\u00a0€"):
            assert expected in text, (expected, text)
        screenshot("release-home-fr-800x480")
        tap(app.home.jobs.open_buttons[job_id(A4)])
        yield lambda: app.manager.current == "job"
        assert "Noir et blanc, recto : 0,00\u00a0€ — vous économisez 5,00\u00a0€" in all_text(
            app.job), all_text(app.job)
        screenshot("release-detail-fr-800x480")
        tap(app.job.back_button)
        yield lambda: app.manager.current == "home"
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"

    return run_scenario(app, scenario, timeout_s=40)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
