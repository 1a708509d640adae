"""UI scenario: a 3D kiosk, badge -> list -> build plate -> release -> progress -> finished.

Usage: drive_print3d.py STATE_DIR. The kiosk app is the real one, with the real
terminal core (charge book, outbox, release desk, follower) over the terminal's fakes
of the backend's 3D job store and of the printer (which prints a few dozen bytes per
poll). Alice (English) prints her job to the end; Bob (French) too. Every step is a real
touch on the real window at 800x480; screenshots go to the test-artifacts folder. Exit
status 0 when every check held.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

from harness import kiosk_config, run_scenario, screenshot, tap

LINE = b"G1 X10 Y10 E0.5\n"
GCODE = LINE * 100


def main(state_dir: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")

    from kiosk.app import KioskApp
    from terminal.charges import ChargeBook
    from terminal.fakes import (
        FakeBackend,
        FakeLedger,
        FakePrint3DJobs,
        FakeThreeDPrinter,
        print3d_job,
    )
    from terminal.offline import OfflinePolicy
    from terminal.outbox import Outbox
    from terminal.ports import Balance, Identity, Print3DFlag
    from terminal.print3d_values import FilamentProfile, Stage3D
    from terminal.session import SessionController
    from terminal.wiring import Terminal, attach_print3d

    config = kiosk_config("http://127.0.0.1:9", state_dir=state_dir,
                          printer={"name": "Prusa MK4 (makerspace)"})
    ten = Balance("EUR", Decimal("10.00"), Decimal("0"), Decimal("0"), Decimal("10.00"))
    alice = Identity("alice", "Alice Martin", "en", ten)
    bob = Identity("bob", "Bob Durand", "fr", ten)
    backend = FakeBackend(cards={"1001": alice, "1002": bob})
    ledger = FakeLedger({"alice": Decimal("10.00"), "bob": Decimal("10.00")})
    mk3 = Print3DFlag("printer_model_mismatch", "MK4", "MK3S", True)
    disagree = Print3DFlag("figures_disagree", "20.00 g", "23.10 g", False)
    jobs = FakePrint3DJobs(ledger, [
        print3d_job(1, "bracket.gcode", grams="20.00", price="2.00", hold="2.50",
                    flags=[disagree]),
        print3d_job(2, "old-mk3-vase.gcode", grams="48.00", price="4.80", hold="6.00",
                    flags=[mk3]),
        print3d_job(3, "support-clip.gcode", "bob", grams="20.00", price="2.00",
                    hold="2.50"),
    ], {1: GCODE, 2: GCODE, 3: GCODE, 4: GCODE})
    printer = FakeThreeDPrinter(step=40)

    class Reader:
        def start(self, on_card: Any) -> None:
            self.on_card = on_card

        def stop(self) -> None:
            pass

    class Shim(FakeBackend):
        def close(self) -> None:
            pass

    executor = ThreadPoolExecutor(max_workers=2)
    session = SessionController(backend, executor, clock=__import__("time").monotonic,
                                idle_timeout_s=300, warning_s=15)
    charges = ChargeBook(Outbox(Path(state_dir) / "outbox.sqlite"), ledger,
                         OfflinePolicy(False, Decimal("0")))
    shim = Shim(cards=backend.cards)
    terminal = Terminal(config, session, shim, executor, Reader(),  # type: ignore[arg-type]
                        typed_card=session.present_card, charges=charges)

    def profile_of(path: Path) -> FilamentProfile:
        size = path.stat().st_size
        points = tuple((len(LINE) * n, Decimal("0.5") * n) for n in range(10, 100, 10))
        return FilamentProfile(size, Decimal("50"), Decimal("20.00"), points)

    attach_print3d(terminal, printer, jobs, "makerspace", 0.2, profile_of, ledger.balance)
    app = KioskApp(terminal)

    def all_text(screen: Any) -> str:
        return " ".join(str(getattr(w, "text", "")) for w in screen.walk(restrict=True))

    def badge(number: str) -> None:
        app.idle.card_input.text = number
        tap(app.idle.present_button)

    def listed(count: int) -> bool:
        panel = app.print3d_panel
        return app.manager.current == "home" and panel.jobs is not None \
            and len(panel.jobs) == count

    def stage() -> Any:
        update = app.print3d.update
        return None if update is None else update.stage

    def one_user(number: str, suffix: str, count: int, expected: tuple[str, ...],
                 job_id: int, finished: tuple[str, ...]) -> Any:
        badge(number)
        yield lambda: listed(count)
        text = all_text(app.home)
        for words in expected:
            assert words in text, (words, text)
        screenshot(f"print3d-list{suffix}")
        tap(app.print3d_panel.print_buttons[job_id])
        yield lambda: app.manager.current == "print3d_plate"
        screenshot(f"print3d-plate{suffix}")
        tap(app.plate.confirm_button)
        yield lambda: app.manager.current == "print3d" and stage() is Stage3D.PRINTING \
            and (app.print3d.update.percent or 0) >= 40
        text = all_text(app.print3d)
        assert " g " in text and "°C" in text, text
        screenshot(f"print3d-progress{suffix}")
        yield lambda: stage() is Stage3D.FINISHED
        text = all_text(app.print3d)
        for words in finished:
            assert words in text, (words, text)
        screenshot(f"print3d-finished{suffix}")
        tap(app.print3d.done_button)
        yield lambda: app.manager.current == "home"
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"

    def leave_and_cancel() -> Any:
        """Alice starts a print and leaves; Bob sees the printer busy, with no name;
        Alice comes back, opens her print and cancels it (asked twice)."""
        # uploaded meanwhile
        jobs.jobs[4] = print3d_job(4, "hinge.gcode", grams="20.00", price="2.00", hold="2.50")
        printer.step = 8
        badge("1001")
        yield lambda: listed(2) and 4 in app.print3d_panel.print_buttons
        tap(app.print3d_panel.print_buttons[4])
        yield lambda: app.manager.current == "print3d_plate"
        tap(app.plate.confirm_button)
        yield lambda: stage() is Stage3D.PRINTING and (app.print3d.update.percent or 0) > 5
        tap(app.print3d.leave_button)
        yield lambda: app.manager.current == "idle" and "printing" in app.idle.where.text
        screenshot("print3d-idle-printing")
        badge("1002")
        yield lambda: app.manager.current == "home" and app.print3d_panel.jobs is not None \
            and "L’imprimante est occupée" in app.print3d_panel.busy.text
        text = all_text(app.home)
        assert "hinge" not in text and "Alice" not in text, text
        assert app.print3d_panel.progress_button.parent is None
        screenshot("print3d-busy-other-fr")
        tap(app.home.logout_button)
        yield lambda: app.manager.current == "idle"
        badge("1001")
        yield lambda: app.manager.current == "home" \
            and app.print3d_panel.progress_button.parent is not None
        assert "Your print hinge.gcode" in app.print3d_panel.busy.text
        tap(app.print3d_panel.progress_button)
        yield lambda: app.manager.current == "print3d"
        tap(app.print3d.cancel_button)
        yield lambda: app.print3d.confirming
        assert "charged by the site's policy" in app.print3d.stage.text
        screenshot("print3d-cancel-confirm")
        tap(app.print3d.cancel_button)
        yield lambda: stage() is Stage3D.CANCELLED
        text = all_text(app.print3d)
        assert "Print cancelled. Charged €" in text and "New balance" in text, text
        screenshot("print3d-cancelled")

    def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
        yield lambda: app.manager.current == "idle" and "ready" in app.idle.where.text
        screenshot("print3d-idle")
        yield from one_user(
            "1001", "", 2,
            ("bracket.gcode", "20 g · 6.71 m · 42 min", "€2.00", "Blocked",
             "Sliced for a MK3S; this printer is a MK4: slice it again.",
             "The slicer says 23.10 g of filament, our analysis 20.00 g"),
            1, ("Finished. Charged €2.00 for 20 g.", "New balance: €8.00"))
        yield from one_user(
            "1002", "-fr", 1, ("support-clip.gcode", "Imprimer", "2,00"),
            3, ("Terminé.", "2,00", "pour 20 g.", "Nouveau solde : 8,00"))
        assert len(jobs.settlements) == 2
        yield from leave_and_cancel()

    return run_scenario(app, scenario, timeout_s=30)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
