"""UI scenario: the technician screens by touch alone, over the fake technician desk.

Usage: drive_technician_screens.py BACKEND_URL. The idle screen's Technician button
opens the technician login; in technician mode the printer queue is changed on the
choice list and saved, an idle timeout the validators refuse stays unsaved with the
problem shown, Restore previous (confirmed) brings the queue back, the SNMP probe shows
counters, supply bars and the alert, the card check shows raw and normalised numbers
and derives a rule from three badged cards and their typed printed numbers; English
and French screenshots. The desk is the fake (terminal.fakes), so this proves the
screens; the real desk's flows are in drive_technician_demo.py.
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
    from terminal.fakes import FakeTechnicianDesk
    from terminal.technician_types import Technician
    from terminal.wiring import build_terminal

    desk = FakeTechnicianDesk()
    app = KioskApp(build_terminal(kiosk_config(backend_url), DEMO_TERMINAL_TOKEN),
                   technician_desk=desk, demo_enrolment_key=lambda: "demo-key-123")
    tess = Technician("tess", "Tess Technician", "card")

    def type_on(keyboard, value: str) -> None:  # type: ignore[no-untyped-def]
        for char in value:
            tap(keyboard.keys[char])

    def scroll_to(scroll, widget):  # type: ignore[no-untyped-def]
        """A finger's swipe in the list until ``widget`` is in view."""
        scroll.scroll_to(widget, animate=False)
        yield lambda: True

    def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
        ui = app.technician
        yield lambda: app.manager.current == "idle"
        screenshot("technician-idle")
        tap(app.idle.technician_button)
        yield lambda: app.manager.current == "technician_login"
        screenshot("technician-login")
        tap(ui.login.local_button)
        yield lambda: ui.login.local and ui.login.field == "pin"
        screenshot("technician-login-local")
        tap(ui.login.cancel_button)
        yield lambda: app.manager.current == "idle"

        ui.enter(tess)  # what a technician session does (the real one: the other driver)
        yield lambda: app.manager.current == "technician"
        assert "Tess Technician" in ui.home.who.text, ui.home.who.text
        assert ui.home.languages.current == "en"
        screenshot("technician-home")

        # the printer queue, from the CUPS server's queues, saved
        tap(ui.home.settings_button)
        yield lambda: "printer.queue" in ui.settings.buttons
        assert "kiosk" in ui.settings.buttons["printer.queue"].text
        screenshot("technician-settings")
        tap(ui.settings.buttons["printer.queue"])
        yield lambda: "annex-mfp" in ui.editor.choice_buttons
        tap(ui.editor.choice_buttons["annex-mfp"])
        yield lambda: ui.editor.value == "annex-mfp"
        screenshot("technician-edit-queue")
        tap(ui.editor.save_button)
        yield lambda: app.manager.current == "technician" and "Saved." in ui.home.status.text
        assert desk.values["printer.queue"] == "annex-mfp", desk.values
        assert "printer.queue: kiosk -> annex-mfp" in ui.home.status.text, ui.home.status.text
        screenshot("technician-saved")

        # a port is typed on the keyboard (65535 steps are no stepper's job)
        tap(ui.home.settings_button)
        yield lambda: "printer.cups_port" in ui.settings.buttons
        tap(ui.settings.buttons["printer.cups_port"])
        yield lambda: app.manager.current == "technician_text"
        tap(ui.text.cancel_button)
        yield lambda: app.manager.current == "technician_settings"
        tap(ui.settings.back_button)
        yield lambda: app.manager.current == "technician"

        # a value the validators refuse: not saved, the problem shown, the value kept
        desk.refuse["terminal.idle_timeout_s"] = (
            "kiosk.toml: terminal.idle_timeout_s = 70: refused by the test")
        tap(ui.home.settings_button)
        yield lambda: "terminal.idle_timeout_s" in ui.settings.buttons
        yield from scroll_to(ui.settings.scroll, ui.settings.buttons["terminal.idle_timeout_s"])
        tap(ui.settings.buttons["terminal.idle_timeout_s"])
        yield lambda: app.manager.current == "technician_edit"
        tap(ui.editor.plus_button)
        assert ui.editor.number.text == "70", ui.editor.number.text
        tap(ui.editor.save_button)
        yield lambda: "refused by the test" in ui.editor.status.text
        assert desk.values["terminal.idle_timeout_s"] == "60"
        screenshot("technician-refused")
        tap(ui.editor.cancel_button)
        yield lambda: app.manager.current == "technician_settings"

        # a text value on the on-screen keyboard, upper case included
        yield lambda: "terminal.name" in ui.settings.buttons
        yield from scroll_to(ui.settings.scroll, ui.settings.buttons["terminal.name"])
        tap(ui.settings.buttons["terminal.name"])
        yield lambda: app.manager.current == "technician_text"
        assert ui.text.value == "Library kiosk 1"
        for _ in "1":
            tap(ui.text.keyboard.keys["⌫"])
        tap(ui.text.keyboard.keys["⇧"])
        type_on(ui.text.keyboard, "b")
        assert ui.text.value == "Library kiosk B", ui.text.value
        # a physical keyboard types into the same field
        from kivy.core.window import Window
        Window.dispatch("on_textinput", "2")
        Window.dispatch("on_key_down", 8, 0, "", [])
        Window.dispatch("on_textinput", "!")
        assert ui.text.value == "Library kiosk B!", ui.text.value
        Window.dispatch("on_key_down", 8, 0, "", [])
        screenshot("technician-text")
        tap(ui.text.ok_button)
        yield lambda: desk.values["terminal.name"] == "Library kiosk B"
        yield lambda: app.manager.current == "technician"

        # restore the previous version, after a confirmation
        tap(ui.home.restore_button)
        yield lambda: app.manager.current == "technician_confirm"
        screenshot("technician-confirm-restore")
        tap(ui.confirm.yes_button)
        yield lambda: "Previous settings restored." in ui.home.status.text
        assert desk.values["terminal.name"] == "Library kiosk 1", desk.values

        # the SNMP probe: counters, supplies with bars, the alert
        tap(ui.home.checks_button)
        yield lambda: app.manager.current == "technician_checks"
        tap(ui.checks.check_buttons["snmp"])
        yield lambda: ui.checks.current == "snmp" and len(ui.checks.rows.children) > 5
        texts = " ".join(getattr(w, "text", "") for w in ui.checks.rows.walk())
        assert "1234" in texts and "Cyan toner low" in texts, texts
        screenshot("technician-snmp")

        # the card reader: raw and normalised; a rule derived from three cards
        tap(ui.checks.check_buttons["card"])
        yield lambda: ("watch_cards", None) in desk.calls
        desk.present("000123")
        yield lambda: any("Normalised: 123" in getattr(w, "text", "")
                          for w in ui.checks.rows.walk())
        screenshot("technician-card")
        tap(ui.checks.action_buttons["Derive normalisation"])
        for raw in ("0042", "0077", "0099"):
            desk.present(raw)
            yield lambda: app.manager.current == "technician_text"
            type_on(ui.text.keyboard, raw.lstrip("0"))
            tap(ui.text.ok_button)
            yield lambda: app.manager.current == "technician_checks"
        yield lambda: "Save this rule" in ui.checks.action_buttons
        screenshot("technician-derived")
        tap(ui.checks.action_buttons["Save this rule"])
        yield lambda: desk.values.get("card_reader.strip_leading_zeros") == "true"

        # the other checks render their answers
        tap(ui.home.checks_button)
        yield lambda: app.manager.current == "technician_checks"
        for check, needle in (("backend", "3 ms"), ("outbox", "2"), ("logs", "line 249")):
            tap(ui.checks.check_buttons[check])
            yield lambda n=needle: any(n in getattr(w, "text", "")
                                       for w in ui.checks.rows.walk())
        screenshot("technician-logs")
        tap(ui.checks.check_buttons["enrolment"])
        yield lambda: any("demo-key-123" in getattr(w, "text", "")
                          for w in ui.checks.rows.walk())
        screenshot("technician-enrolment")

        # French
        app._speak("fr")  # the fake desk has no technician session to switch
        yield lambda: ui.checks.heading.text == "Enrôlement"
        screenshot("technician-enrolment-fr")
        tap(ui.checks.check_buttons["snmp"])
        yield lambda: ui.checks.current == "snmp" and len(ui.checks.rows.children) > 5
        screenshot("technician-snmp-fr")
        tap(ui.checks.back_button)
        yield lambda: app.manager.current == "technician"
        assert ui.home.settings_button.text == "Réglages", ui.home.settings_button.text
        screenshot("technician-home-fr")
        tap(ui.home.settings_button)
        yield lambda: "printer.queue" in ui.settings.buttons
        screenshot("technician-settings-fr")

    return run_scenario(app, scenario, timeout_s=20)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
