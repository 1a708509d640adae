"""UI scenario: redeeming voucher cards at the demo kiosk (issue 13), 800x480.

Usage: drive_vouchers.py DATA_DIR. Starts the demo backend (which seeds the public DEMO
batch), a private CUPS server holding one 12-page colour job for Bob (3.00 on the campus
list, more than his 2.00), and the kiosk as ``printkiosk demo`` builds it, the demo
vouchers on its idle screen. Then, as people would:

* Bob prints: not enough credit; the release screen offers *Redeem a voucher*. On the
  voucher keyboard he types the first demo code with one wrong character: "check the
  code", *Redeem* disabled, nothing sent. He corrects it and redeems: 2.00 added, the new
  balance 4.00 (and the ledger agrees).
* He types the same code again on a physical keyboard (Enter redeems): already redeemed.
  A grabbed 2D scanner's QR scan (keyboard-wedge events) fills the field with the second
  code.
* Alice, in French, types the second code with a typo, corrects it, redeems it, and
  prints the receipt (a file-target ESC/POS printer, its bytes read back).
* The backend goes away: a valid third code is refused as offline, and stays unredeemed.

Exit status 0 when every check held; screenshots ``voucher-*`` in the artifacts folder.
"""

from __future__ import annotations

import ctypes
import sys
import time
from decimal import Decimal
from pathlib import Path

from harness import run_scenario, screenshot, tap

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the shared wedge pipe
POSTER = "Poster set"


def keyboard_types(text: str) -> None:
    """Type ``text`` then Enter on the X server's keyboard, into this process's window.

    Real X key events (XTEST), sent on the connection SDL already holds: xdotool opened a
    new connection each time, and in two full runs the display's socket file was gone
    mid-test (cause unknown) while the server and our window lived on, so it could not
    connect. An open connection does not need the socket file.
    """
    from kivy.core.window import Window

    x11 = ctypes.CDLL("libX11.so.6")
    xtst = ctypes.CDLL("libXtst.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XWarpPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int,
                                 ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_int]
    x11.XStringToKeysym.restype = ctypes.c_ulong
    x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
    x11.XKeysymToKeycode.restype = ctypes.c_ubyte
    x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XSetInputFocus.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                                   ctypes.c_ulong]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                       ctypes.c_ulong]
    revert_to_parent, pointer_root, current_time = 2, 1, 0
    info = Window.get_window_info()
    if info is not None:
        display = ctypes.c_void_p(info.display)
        x11.XSetInputFocus(display, info.window, revert_to_parent, current_time)
    else:
        # SDL would not say (once in CI): a connection of our own, and the keyboard
        # focus following the pointer, put over our window (the only one on the display).
        display = ctypes.c_void_p(x11.XOpenDisplay(None))
        if not display.value:
            raise RuntimeError("cannot open the X display to type on")
        x11.XSetInputFocus(display, pointer_root, revert_to_parent, current_time)
        width, height = Window.system_size
        x11.XWarpPointer(display, 0, x11.XDefaultRootWindow(display), 0, 0, 0, 0,
                         int(Window.left + width / 2), int(Window.top + height / 2))

    def keycode(name: str) -> int:
        code = int(x11.XKeysymToKeycode(display, x11.XStringToKeysym(name.encode())))
        if code == 0:
            raise RuntimeError(f"no key on the X keyboard for {name!r}")
        return code

    shift = keycode("Shift_L")
    for character in [*text, "\n"]:
        name = KEYSYMS.get(character, character)
        upper = character.isupper()
        if upper:
            xtst.XTestFakeKeyEvent(display, shift, 1, 0)
        code = keycode(name.lower() if upper else name)
        xtst.XTestFakeKeyEvent(display, code, 1, 0)
        xtst.XTestFakeKeyEvent(display, code, 0, 40)  # 40 ms, as a quick typist
        if upper:
            xtst.XTestFakeKeyEvent(display, shift, 0, 0)
    x11.XSync(display, 0)


KEYSYMS = {"-": "minus", "\n": "Return", " ": "space"}


def typo_of(body: str, position: int = 12) -> str:
    """``body`` with one character replaced: the check character must catch it."""
    from terminal.vouchers import ALPHABET

    wrong = ALPHABET[(ALPHABET.index(body[position]) + 1) % len(ALPHABET)]
    return body[:position] + wrong + body[position + 1:]


def main(data_dir: str) -> int:
    from kivy.config import Config

    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")

    from backend.demo import DEMO_TERMINAL_TOKEN
    from drivers.cards.wedge import DeviceSpec, WedgeCardReader
    from kiosk.app import KioskApp
    from printkiosk.commands.demo import (
        DemoJob,
        demo_cards,
        demo_kiosk_config,
        demo_vouchers,
        free_port,
        start_demo_backend,
        start_demo_printer,
        stop_demo_backend,
    )
    from terminal.adapters import WedgeCodeScanner
    from terminal.backend_client import HttpBackend
    from terminal.config import ReceiptSection
    from terminal.release import Stage
    from terminal.vouchers import assess
    from terminal.wiring import build_terminal
    from tests.drivers.cards.wedge_pipe import PipeDevice
    from tests.drivers.receipt.escpos_bytes import printed_text

    base = Path(data_dir)
    base.mkdir(parents=True, exist_ok=True)
    port = free_port()
    backend = start_demo_backend(port, base)
    printer = start_demo_printer(base, jobs=[DemoJob("bob", POSTER, (True,) * 12)])
    try:
        codes = demo_vouchers(base)
        assert len(codes) == 3, codes
        bodies = [assess(code).body for code in codes]
        receipts = base / "receipt-printer.bin"
        config = demo_kiosk_config(port, base, printer).model_copy(update={
            "receipt": ReceiptSection(target=f"file:{receipts}", profile="TM-T88III")})
        terminal = build_terminal(config, DEMO_TERMINAL_TOKEN, demo_cards=demo_cards(),
                                  demo_vouchers=lambda: demo_vouchers(base))
        # the grabbed 2D scanner, over a pipe carrying its key events (no /dev/uinput here)
        scanner_device = PipeDevice("/dev/input/by-id/usb-2d-scanner")
        handed: list[PipeDevice] = []

        def open_scanner(_spec: DeviceSpec) -> PipeDevice | None:
            if handed:
                return None
            handed.append(scanner_device)
            return scanner_device

        terminal.voucher_scanner = WedgeCodeScanner(WedgeCardReader(
            "/dev/input/by-id/usb-2d-scanner", debounce_s=0, reopen_s=0.05,
            open_device=open_scanner))
        ledger = HttpBackend(f"http://127.0.0.1:{port}", DEMO_TERMINAL_TOKEN)
        app = KioskApp(terminal)
        voucher = app.voucher

        def present(card: str) -> None:
            # as a person does: tap into the card field (Kivy turns SDL text input on), type,
            # tap Present (the field loses focus and text input is turned off again)
            app.idle.card_input.focus = True
            app.idle.card_input.text = card
            app.idle.card_input.focus = False
            tap(app.idle.present_button)

        def type_on_keypad(chars: str) -> None:
            for char in chars:
                tap(voucher.keypad.keys[char])

        def answered() -> bool:
            return not voucher.waiting

        def scenario(app: KioskApp):  # type: ignore[no-untyped-def]
            yield lambda: app.manager.current == "idle"
            for code in codes:
                assert code in app.idle.demo_hint.text, app.idle.demo_hint.text
            screenshot("voucher-demo-idle")
            # Bob: not enough credit for his poster set, a voucher offered right there
            present("1002")
            yield lambda: app.home.jobs.jobs is not None and len(app.home.jobs.jobs.jobs) == 1
            tap(app.home.jobs.print_all_button)
            yield lambda: app.manager.current == "billing"
            tap(app.billing.no_code_button)
            yield lambda: not app.release.done_button.disabled
            final = next(iter(app.release.updates.values()))
            assert final.stage is Stage.INSUFFICIENT, final
            assert app.release.voucher_button.parent is not None, "no voucher offered"
            screenshot("voucher-not-enough-credit-en")
            tap(app.release.voucher_button)
            yield lambda: app.manager.current == "voucher"
            # a typo: caught by the check character, before any request
            wrong = typo_of(bodies[0])
            type_on_keypad(wrong)
            yield lambda: voucher.field.text == assess(wrong).shown
            assert voucher.assessment.status == "typo"
            assert voucher.status.text.startswith("Check the code"), voucher.status.text
            assert voucher.redeem_button.disabled
            tap(voucher.redeem_button)
            assert not voucher.waiting, "a typo was sent"
            screenshot("voucher-typo-en")
            tap(voucher.keypad.keys["⌫"])
            tap(voucher.keypad.keys["⌫"])
            type_on_keypad(bodies[0][12:])
            yield lambda: voucher.assessment.status == "valid"
            assert not voucher.redeem_button.disabled
            assert "-" in voucher.field.text, voucher.field.text  # grouped by four
            tap(voucher.redeem_button)
            yield lambda: app.manager.current == "voucher_result"
            result = app.voucher_result
            assert result.added.text == "€2.00 added to your account", result.added.text
            assert result.balance.text == "New balance: €4.00", result.balance.text
            assert ledger.identify_card("1002").balance.available == Decimal("4.00")
            screenshot("voucher-credited-en")
            tap(result.done_button)
            yield lambda: app.manager.current == "home"
            tap(app.home.add_credit_button)
            yield lambda: app.manager.current == "credit"
            screenshot("voucher-add-credit-en")
            tap(app.credit.voucher_button)
            yield lambda: app.manager.current == "voucher"
            # the same card again, typed on a physical keyboard: Enter redeems. Real X key
            # events (xdotool, XTEST) through SDL, not Kivy events dispatched by hand: SDL
            # sends typed text only while text input is on, which the screen must request.
            keyboard_types(codes[0].lower())
            yield lambda: voucher.refusal is not None
            refusal = voucher.refusal
            assert refusal is not None and refusal.code == "voucher_redeemed", refusal
            assert "already redeemed on" in voucher.status.text, voucher.status.text
            screenshot("voucher-already-redeemed-en")
            # a QR scan on the grabbed scanner fills the field
            yield lambda: scanner_device.grabbed
            scanner_device.type(codes[1] + "\n", int(time.time()))
            yield lambda: voucher.assessment.body == bodies[1]
            assert voucher.refusal is None and voucher.assessment.status == "valid"
            assert voucher.field.text == assess(codes[1]).shown
            screenshot("voucher-scanned-en")
            tap(voucher.back_button)
            yield lambda: app.manager.current == "home"
            tap(app.home.logout_button)
            yield lambda: app.manager.current == "idle"
            # the idle screen no longer offers the code Bob redeemed
            assert codes[0] not in app.idle.demo_hint.text, app.idle.demo_hint.text
            assert codes[1] in app.idle.demo_hint.text, app.idle.demo_hint.text
            yield lambda: app.manager.current == "idle"
            # Alice, in French
            present("1001")
            yield lambda: app.manager.current == "home" and app.tr.language == "fr"
            before = ledger.identify_card("1001").balance.available
            tap(app.home.add_credit_button)
            yield lambda: app.manager.current == "credit"
            tap(app.credit.voucher_button)
            yield lambda: app.manager.current == "voucher"
            wrong = typo_of(bodies[1], 3)
            type_on_keypad(wrong)
            yield lambda: voucher.status.text.startswith("Vérifiez le code")
            screenshot("voucher-typo-fr")
            tap(voucher.keypad.keys["clear"])
            type_on_keypad(bodies[1])
            yield lambda: voucher.assessment.status == "valid"
            tap(voucher.redeem_button)
            yield lambda: app.manager.current == "voucher_result"
            result = app.voucher_result
            assert result.added.text == "2,00\u00a0€ ajoutés à votre compte", result.added.text
            after = ledger.identify_card("1001").balance.available
            assert after == before + Decimal("2.00"), (before, after)
            assert result.balance.text == "Nouveau solde : " + app.tr.money(after, "EUR")
            tap(result.receipt_button)
            yield lambda: result.receipt_status.text == "Reçu imprimé."
            screenshot("voucher-credited-fr")
            lines = printed_text(receipts.read_bytes())
            assert lines[0] == "Bon utilisé", lines
            balance_row = [line for line in lines if line.startswith("Nouveau solde")]
            assert balance_row and balance_row[0].endswith(app.tr.money(after, "EUR")), lines
            tap(result.done_button)
            yield lambda: app.manager.current == "home"
            tap(app.home.add_credit_button)
            yield lambda: app.manager.current == "credit"
            tap(app.credit.voucher_button)
            yield lambda: app.manager.current == "voucher"
            type_on_keypad(bodies[2])
            yield lambda: voucher.assessment.status == "valid"
            # the backend goes away: refused at once, never queued
            backend.terminate()
            backend.wait(timeout=10)
            tap(voucher.redeem_button)
            yield answered
            assert voucher.refusal is not None and voucher.refusal.code == "voucher_offline"
            assert "serveur" in voucher.status.text, voucher.status.text
            screenshot("voucher-offline-fr")

        status = run_scenario(app, scenario, timeout_s=40)
        if status == 0:
            # what the ledger holds: the first two redeemed, the third never sent
            assert demo_vouchers(base, limit=20)[:1] == [codes[2]], demo_vouchers(base)
        return status
    finally:
        printer.close()
        if backend.poll() is None:
            stop_demo_backend(backend)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
