"""UI scenario: topping up at the demo kiosk with a payment QR code (issue 14), 800x480.

Usage: drive_topup.py DATA_DIR. Starts the demo backend (its demo gateway: the simulated
payment page), a private CUPS server holding one 12-page colour job for Bob (3.00 on the
campus list, more than his 2.00), and the kiosk as ``printkiosk demo`` builds it. Then,
as people would:

* Bob prints: not enough credit; the release screen offers *Top up by phone*, and the
  amount screen opens with the missing 1.00 typed in. He picks 5.00 instead, *Continue*:
  the kiosk shows the QR. The test takes a screenshot, decodes the QR from the PNG with
  pyzbar, opens its URL in headless Chromium (Playwright, the system Chromium) as "the
  phone" and presses *Pay*; the kiosk shows 5.00 added and the new balance 7.00 (the
  ledger agrees). The time from the Pay response to the balance on screen is printed
  and must be under 2 s.
* He starts another top-up and cancels it: "Top-up cancelled", nothing charged.
* Alice, in French, tops up 2.00: the phone declines on the page: "Le paiement a échoué".
  Then she tops up 10.00 and pays: new balance on screen.
* The backend goes away: *Top up by phone* is refused as offline, nothing started.
* It comes back with payment codes valid for one minute: Alice lets one run out; the QR
  goes off the screen, "Le code de paiement a expiré", and the backend says expired.

Exit status 0 when every check held; screenshots ``topup-*`` in the artifacts folder.
"""

from __future__ import annotations

import io
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from harness import run_scenario, screenshot, tap

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
POSTER = "Poster set"
CHROMIUM = "/usr/bin/chromium"
BALANCE_WITHIN_S = 2.0


class Phone:
    """Headless Chromium on its own thread (Playwright's sync API stays on one thread,
    and the Kivy thread must keep drawing): opens a URL and presses a button on it."""

    def __init__(self) -> None:
        self._asks: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.answers: queue.Queue[tuple[float, int, str] | BaseException] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def press(self, url: str, button: str) -> None:
        """Open ``url`` and press ``button`` (``#pay``, ``#decline``); ``answers`` gets
        (monotonic time of the POST's response, its status, the page's text after it)."""
        self._asks.put((url, button))

    def close(self) -> None:
        self._asks.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--no-sandbox"])
            try:
                while (ask := self._asks.get()) is not None:
                    try:
                        self.answers.put(self._press(browser, *ask))
                    except BaseException as exc:  # handed to the scenario to fail on
                        self.answers.put(exc)
            finally:
                browser.close()

    @staticmethod
    def _press(browser: Any, url: str, button: str) -> tuple[float, int, str]:
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        try:
            page.goto(url)
            banner = page.locator("#banner").inner_text()
            assert "SIMULATED PAYMENT" in banner, banner
            with page.expect_response(lambda r: r.request.method == "POST") as posted:
                page.click(button)
            answered_at = time.monotonic()
            page.wait_for_load_state()
            return answered_at, posted.value.status, page.inner_text("body")
        finally:
            page.close()


def decode_qr(png: Path) -> list[str]:
    """What pyzbar reads in a screenshot: the QR codes' payloads."""
    from PIL import Image
    from pyzbar.pyzbar import ZBarSymbol, decode

    image = Image.open(io.BytesIO(png.read_bytes()))
    return [found.data.decode() for found in decode(image, symbols=[ZBarSymbol.QRCODE])]


def main(data_dir: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")

    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.app import KioskApp
    from printkiosk.commands.demo import (
        DemoJob,
        demo_cards,
        demo_kiosk_config,
        free_port,
        start_demo_backend,
        start_demo_printer,
        stop_demo_backend,
        wait_for_port,
    )
    from terminal.backend_client import HttpBackend
    from terminal.release import Stage
    from terminal.wiring import build_terminal

    base = Path(data_dir)
    base.mkdir(parents=True, exist_ok=True)
    port = free_port()
    backend = start_demo_backend(port, base)
    printer = start_demo_printer(base, jobs=[DemoJob("bob", POSTER, (True,) * 12)])
    phone = Phone()
    processes = [backend]
    try:
        config = demo_kiosk_config(port, base, printer)
        terminal = build_terminal(config, DEMO_TERMINAL_TOKEN, demo_cards=demo_cards())
        ledger = HttpBackend(f"http://127.0.0.1:{port}", DEMO_TERMINAL_TOKEN)
        app = KioskApp(terminal)
        amount, qr, result = app.topup_amount, app.topup_qr, app.topup_result
        timings: list[float] = []

        def present(card: str) -> None:
            app.idle.card_input.text = card
            tap(app.idle.present_button)

        def qr_shown() -> bool:
            return app.manager.current == "topup_qr" and qr.topup is not None \
                and qr.countdown.text != ""

        def scanned(name: str) -> str:
            """The screenshot's QR, decoded as a phone's camera would."""
            read = decode_qr(screenshot(name))
            assert qr.topup is not None
            assert read == [qr.topup.qr_payload], (read, qr.topup)
            return read[0]

        def phone_answer() -> tuple[float, int, str] | None:
            try:
                answer = phone.answers.get_nowait()
            except queue.Empty:
                return None
            if isinstance(answer, BaseException):
                raise answer
            return answer

        def answered(into: list[tuple[float, int, str]]) -> Callable[[], bool]:
            """Holds once the phone's page answered; the answer goes ``into``."""
            def check() -> bool:
                answer = phone_answer()
                if answer is not None:
                    into.append(answer)
                return bool(into)
            return check

        def shown_at(condition: Callable[[], bool], seen: list[float]) -> Callable[[], bool]:
            """``condition``, recording when it first held (polled every 50 ms)."""
            def check() -> bool:
                if condition():
                    seen.append(time.monotonic())
                    return True
                return False
            return check

        def start_topup(preset: str) -> None:
            tap(amount.preset_buttons[Decimal(preset)])
            assert not amount.continue_button.disabled, amount.status.text
            tap(amount.continue_button)

        def open_topup() -> Any:
            tap(app.home.add_credit_button)
            yield lambda: app.manager.current == "credit"
            tap(app.credit.ways["topup"])
            yield lambda: app.manager.current == "topup" and (
                amount.options is not None or amount.refusal is not None)

        def pay_and_see(url: str, balance_text: str, name: str) -> Any:
            """The phone pays; the kiosk shows the balance: measured from the Pay answer."""
            phone.press(url, "#pay")
            answers: list[tuple[float, int, str]] = []
            seen: list[float] = []
            yield shown_at(lambda: app.manager.current == "topup_result"
                           and result.balance.text == balance_text, seen)
            yield answered(answers)
            paid_at, status, page_text = answers[0]
            assert status in (200, 303), (status, page_text)
            took = seen[0] - paid_at
            timings.append(took)
            print(f"top-up: Pay answered -> balance on the kiosk in {took * 1000:.0f} ms",
                  flush=True)
            assert took < BALANCE_WITHIN_S, f"{took:.2f} s from Pay to the balance"
            screenshot(name)

        def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
            yield lambda: app.manager.current == "idle"
            # Bob: not enough credit for his poster set; a top-up offered right there
            present("1002")
            yield lambda: app.home.jobs.jobs is not None and len(app.home.jobs.jobs.jobs) == 1
            tap(app.home.jobs.print_all_button)
            yield lambda: app.manager.current == "billing"
            tap(app.billing.no_code_button)
            yield lambda: not app.release.done_button.disabled
            final = next(iter(app.release.updates.values()))
            assert final.stage is Stage.INSUFFICIENT, final
            assert app.release.topup_button.parent is not None, "no top-up offered"
            screenshot("topup-not-enough-credit-en")
            tap(app.release.topup_button)
            yield lambda: app.manager.current == "topup" and amount.options is not None
            assert amount.typed == "1.00", amount.typed  # 3.00 - 2.00, at least the minimum
            assert amount.judgement.status == "ok"
            screenshot("topup-amount-en")
            # typed below the minimum: said live, Continue disabled
            tap(amount.keypad.keys["⌫"])
            tap(amount.keypad.keys["⌫"])
            tap(amount.keypad.keys["⌫"])
            yield lambda: amount.typed == "1"
            for key in "⌫0.5":
                tap(amount.keypad.keys["," if key == "." else key])
            yield lambda: amount.typed == "0.5"
            assert amount.status.text.startswith("At least"), amount.status.text
            assert amount.continue_button.disabled
            screenshot("topup-amount-below-en")
            start_topup("5.00")
            yield qr_shown
            url = scanned("topup-qr-en")
            assert qr.code.text == f"Code: {qr.topup.short_code}", qr.code.text
            assert qr.countdown.text.startswith("Expires in "), qr.countdown.text
            assert url in qr.url.text, qr.url.text
            yield from pay_and_see(url, "New balance: €7.00", "topup-paid-en")
            assert result.added.text == "€5.00 added to your account", result.added.text
            assert ledger.identify_card("1002").balance.available == Decimal("7.00")
            tap(result.done_button)
            yield lambda: app.manager.current == "home"
            # another one, cancelled on the kiosk
            yield from open_topup()
            start_topup("2.00")
            yield qr_shown
            tap(qr.cancel_button)
            yield lambda: app.manager.current == "topup_result" and result.topup is not None
            assert result.topup.status == "cancelled", result.topup
            assert result.heading.text == "Top-up cancelled", result.heading.text
            screenshot("topup-cancelled-en")
            assert ledger.identify_card("1002").balance.available == Decimal("7.00")
            tap(result.done_button)
            yield lambda: app.manager.current == "home"
            tap(app.home.logout_button)
            yield lambda: app.manager.current == "idle"
            # Alice, in French: the phone declines, then pays
            present("1001")
            yield lambda: app.manager.current == "home" and app.tr.language == "fr"
            before = ledger.identify_card("1001").balance.available
            yield from open_topup()
            screenshot("topup-amount-fr")
            start_topup("2.00")
            yield qr_shown
            phone.press(scanned("topup-qr-fr"), "#decline")
            yield lambda: app.manager.current == "topup_result" and result.topup is not None
            assert result.heading.text == "Le paiement a échoué", result.heading.text
            screenshot("topup-declined-fr")
            yield answered([])
            tap(result.again_button)
            yield lambda: app.manager.current == "topup" and amount.options is not None
            start_topup("10.00")
            yield qr_shown
            after = before + Decimal("10.00")
            yield from pay_and_see(scanned("topup-qr-fr"),
                                   "Nouveau solde : " + app.tr.money(after, "EUR"),
                                   "topup-paid-fr")
            assert ledger.identify_card("1001").balance.available == after
            tap(result.done_button)
            yield lambda: app.manager.current == "home"
            # the backend goes away: refused at once, nothing started
            backend.terminate()
            backend.wait(timeout=10)
            yield from open_topup()
            assert amount.refusal is not None and amount.refusal.code == "topup_offline"
            assert "serveur" in amount.status.text, amount.status.text
            assert amount.continue_button.disabled
            screenshot("topup-offline-fr")
            # it comes back, its payment codes valid for one minute: Alice lets one expire
            restart_with_one_minute_codes()
            tap(amount.back_button)
            yield lambda: app.manager.current == "credit" and not app._offline
            tap(app.credit.ways["topup"])
            yield lambda: app.manager.current == "topup" and amount.options is not None
            start_topup("2.00")
            yield qr_shown
            assert qr.countdown.text in ("Expire dans 1:00", "Expire dans 0:59"), \
                qr.countdown.text
            shown = qr.topup
            yield lambda: app.manager.current == "topup_result"  # a minute later
            assert result.heading.text == "Le code de paiement a expiré", result.heading.text
            assert qr.qr.opacity == 0, "an expired code is taken off the screen"
            screenshot("topup-expired-fr")
            ledger.identify_card("1001")
            assert ledger.wait_topup("alice", shown.topup_id, 0).status == "expired"
            assert ledger.balance("alice").available == after

        def restart_with_one_minute_codes() -> None:
            config_file = base / "backend.toml"
            text = config_file.read_text(encoding="utf-8")
            assert "[payments]\n" in text, text
            config_file.write_text(text.replace("[payments]\n", "[payments]\n"
                                                "expire_after_min = 1\n", 1), encoding="utf-8")
            # the same database and key (no --demo-data: that seeds a new one)
            restarted = subprocess.Popen([sys.executable, "-m", "printkiosk", "backend",
                                          "--config", str(config_file)])
            processes.append(restarted)
            wait_for_port(port, restarted)

        status = run_scenario(app, scenario, timeout_s=90)
        if timings:
            print(f"top-up: Pay -> balance on screen, worst of {len(timings)}: "
                  f"{max(timings) * 1000:.0f} ms", flush=True)
        return status
    finally:
        phone.close()
        printer.close()
        for process in processes:
            if process.poll() is None:
                stop_demo_backend(process)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
