"""UI scenario: technician mode on the demo kiosk, with the real desk and real peers.

Usage: drive_technician_demo.py DATA_DIR. Starts what ``printkiosk demo`` starts (the
demo backend, the private CUPS server with the kiosk, follow-me and annex-mfp queues,
snmpsim serving the demo's own printer recording) and runs the kiosk from the demo's
``kiosk.toml`` through the terminal factory, as the demo does. Then, by touch: Tess's
technician card (1009) opens technician mode; the printer queue is re-pointed to
annex-mfp and applied in-process (the new core lists Alice's job held on annex-mfp); an
offline limit the validators refuse leaves the file byte for byte as it was; Restore
previous brings the kiosk queue back; the SNMP probe shows the recording's counter,
toners and alert; the card check shows a card typed into the simulated reader raw and
normalised; a real enrolment key from the backend's CLI enrols the kiosk (a new token
in the 0600 file); Tess's username and PIN open technician mode too; five wrong PINs
lock her account. English and French screenshots.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from harness import run_scenario, screenshot, tap


def main(data_dir: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")
    from kiosk.app import KioskApp
    from kiosk.run import TerminalSource
    from printkiosk.commands.demo import (
        DEMO_ANNEX_QUEUE,
        demo_cards,
        demo_enrolment_key,
        demo_factory,
        free_port,
        start_demo_backend,
        start_demo_printer,
        stop_demo_backend,
        write_demo_kiosk_file,
    )
    from printkiosk.commands.demo_snmp import DEMO_PAGES, start_demo_snmp

    base = Path(data_dir)
    base.mkdir(parents=True, exist_ok=True)
    port = free_port()
    backend = start_demo_backend(port, base)
    printer = start_demo_printer(base)
    snmp = start_demo_snmp(base / "snmp")
    try:
        path = write_demo_kiosk_file(port, base, printer, "en", snmp)
        token_file = base / "terminal-token"
        key = demo_enrolment_key(base)
        assert key, "the backend CLI made no enrolment key"
        factory: TerminalSource = demo_factory(path, base, demo_cards())
        app = KioskApp(factory.build(), factory=factory, demo_enrolment_key=lambda: key)

        def type_on(keyboard, value: str) -> None:  # type: ignore[no-untyped-def]
            for char in value:
                if char.isalpha() and char.isupper() != getattr(keyboard, "upper", False):
                    tap(keyboard.keys["⇧"])
                tap(keyboard.keys[char.lower() if char.isalpha() else char])

        def words(widget) -> str:  # type: ignore[no-untyped-def]
            return " ".join(str(getattr(w, "text", "")) for w in widget.walk())

        def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
            yield lambda: app.manager.current == "idle"
            assert "1009 Tess Technician" in app.idle.demo_hint.text, app.idle.demo_hint.text
            # the technician card: straight into technician mode
            app.idle.card_input.text = "1009"
            tap(app.idle.present_button)
            yield lambda: app.manager.current == "technician"
            assert "Tess Technician" in app.technician.home.who.text
            screenshot("technician-demo-home")

            # re-point the kiosk at the annex printer, applied without a reboot
            old_terminal = app.terminal
            ui = app.technician
            tap(ui.home.settings_button)
            yield lambda: "printer.queue" in ui.settings.buttons
            tap(ui.settings.buttons["printer.queue"])
            yield lambda: DEMO_ANNEX_QUEUE in ui.editor.choice_buttons
            tap(ui.editor.choice_buttons[DEMO_ANNEX_QUEUE])
            yield lambda: ui.editor.value == DEMO_ANNEX_QUEUE
            screenshot("technician-demo-queues")
            tap(ui.editor.save_button)
            yield lambda: app.terminal is not old_terminal and \
                "Saved and applied." in app.technician.home.status.text
            ui = app.technician
            assert app.terminal.config.printer.queue == DEMO_ANNEX_QUEUE
            # the new core's session carries the technician on, idle timeout included
            assert app.terminal.session.view.technician is not None
            assert app.terminal.session.view.technician.username == "tess"
            assert f'queue = "{DEMO_ANNEX_QUEUE}"' in path.read_text(encoding="utf-8")
            screenshot("technician-demo-applied")

            # an invalid value: refused with the validators' words, the file unchanged
            before = path.read_bytes()
            tap(ui.home.settings_button)
            yield lambda: "offline.spending_limit" in ui.settings.buttons
            ui.settings.scroll.scroll_to(ui.settings.buttons["offline.spending_limit"],
                                         animate=False)
            yield lambda: True
            tap(ui.settings.buttons["offline.spending_limit"])
            yield lambda: app.manager.current == "technician_text"
            for _ in range(len(ui.text.value)):
                tap(ui.text.keyboard.keys["⌫"])
            type_on(ui.text.keyboard, "lots")
            tap(ui.text.ok_button)
            yield lambda: "spending_limit" in ui.text.status.text
            assert path.read_bytes() == before
            screenshot("technician-demo-refused")
            tap(ui.text.cancel_button)
            yield lambda: app.manager.current == "technician_settings"
            tap(ui.settings.back_button)
            yield lambda: app.manager.current == "technician"

            # the new core lists the jobs of the new queue: Alice's annex handout
            tap(ui.home.logout_button)
            yield lambda: app.manager.current == "idle"
            app.idle.card_input.text = "1001"
            tap(app.idle.present_button)
            yield lambda: app.manager.current == "home" and app.home.jobs is not None \
                and app.home.jobs.jobs is not None
            names = [job.name for job in app.home.jobs.jobs.jobs]
            assert names == ["Annex handout"], names
            screenshot("technician-demo-annex-jobs-fr")
            tap(app.home.logout_button)
            yield lambda: app.manager.current == "idle"

            # restore the previous file: the kiosk queue again
            app.idle.card_input.text = "1009"
            tap(app.idle.present_button)
            yield lambda: app.manager.current == "technician"
            ui = app.technician
            old_terminal = app.terminal
            tap(ui.home.restore_button)
            yield lambda: app.manager.current == "technician_confirm"
            tap(ui.confirm.yes_button)
            yield lambda: app.terminal is not old_terminal and \
                "Previous settings restored and applied." in app.technician.home.status.text
            ui = app.technician
            assert app.terminal.config.printer.queue == "kiosk"

            # the SNMP probe against snmpsim's demo recording
            tap(ui.home.checks_button)
            yield lambda: app.manager.current == "technician_checks"
            tap(ui.checks.check_buttons["snmp"])
            yield lambda: "Magenta toner low" in words(ui.checks.rows)
            assert str(DEMO_PAGES) in words(ui.checks.rows), words(ui.checks.rows)
            screenshot("technician-demo-snmp")

            # the card check with the simulated reader: raw and normalised
            tap(ui.checks.check_buttons["card"])
            yield lambda: ui._stop_watch is not None
            # the simulated reader is badged by typing, by touch, as a demo user does
            yield lambda: "Type a card number" in ui.checks.action_buttons
            tap(ui.checks.action_buttons["Type a card number"])
            yield lambda: app.manager.current == "technician_text"
            type_on(ui.text.keyboard, "1001")
            tap(ui.text.ok_button)
            yield lambda: "Raw: 1001" in words(ui.checks.rows)
            assert "Normalised: 1001" in words(ui.checks.rows)
            assert app.manager.current == "technician_checks"  # not a login
            screenshot("technician-demo-card")

            # enrolment with the backend's one-time key: a new 0600 token
            token_before = token_file.read_text(encoding="utf-8")
            tap(ui.checks.check_buttons["enrolment"])
            yield lambda: key in words(ui.checks.rows)
            screenshot("technician-demo-enrolment")
            tap(ui.checks.action_buttons["Enter enrolment key"])
            yield lambda: app.manager.current == "technician_text"
            type_on(ui.text.keyboard, key)
            assert ui.text.value == key
            old_terminal = app.terminal
            tap(ui.text.ok_button)
            yield lambda: app.terminal is not old_terminal
            yield lambda: "Enrolled" in app.technician.home.status.text
            assert token_file.read_text(encoding="utf-8") != token_before
            assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
            ui = app.technician
            tap(ui.home.logout_button)
            yield lambda: app.manager.current == "idle"

            # username and PIN, from the idle screen in French
            tap(app.idle.language_buttons["fr"])
            yield lambda: app.tr.language == "fr"
            tap(app.idle.technician_button)
            yield lambda: app.manager.current == "technician_login"
            login = app.technician.login
            type_on(login.keypad, "tess")
            tap(login.pin_box)
            type_on(login.keypad, "9012")
            tap(login.login_button)
            yield lambda: app.manager.current == "technician"
            assert app.technician.technician is not None
            assert app.technician.technician.via == "pin"
            # Tess's profile says English: the home's FR switches this session
            tap(app.technician.home.languages.buttons["fr"])
            yield lambda: app.technician.home.settings_button.text == "Réglages"
            screenshot("technician-demo-home-fr")
            tap(app.technician.home.logout_button)
            yield lambda: app.manager.current == "idle"

            # five wrong PINs lock the account (French again: logout went back to English)
            tap(app.idle.language_buttons["fr"])
            yield lambda: app.tr.language == "fr"
            tap(app.idle.technician_button)
            yield lambda: app.manager.current == "technician_login"
            for attempt in range(6):
                tap(login.username_box)
                if not login.username:
                    type_on(login.keypad, "tess")
                tap(login.pin_box)
                type_on(login.keypad, "0000")
                tap(login.login_button)
                yield lambda: login.status.text not in ("", "Un instant…")
                if attempt < 4:
                    assert "incorrect" in login.status.text, login.status.text
                yield lambda: True
            assert "Trop de tentatives" in login.status.text, login.status.text
            screenshot("technician-demo-locked-fr")

        return run_scenario(app, scenario, timeout_s=30)
    finally:
        snmp.close()
        printer.close()
        stop_demo_backend(backend)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
