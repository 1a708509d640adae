"""The kiosk's heartbeat comes from the Kivy loop itself, not from a thread beside it.

Usage: drive_blocked_loop.py BACKEND_URL. Runs ``kiosk.run.run_kiosk`` (the real app, the
real window) with a heartbeat that records when it is called. After a few beats it
blocks the Kivy thread for BLOCK_S in a Clock callback, as a slow call on the UI thread
would, while a plain thread keeps counting: the heartbeat must pause for the whole
block although the process runs. Then it sends itself SIGTERM, which must close the app
(run_kiosk returns). Prints one JSON line; exit status 0 when run_kiosk returned.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))
from harness import kiosk_config

BLOCK_S = 3.0


def main(backend_url: str) -> int:
    from kivy.clock import Clock

    from backend.demo import DEMO_TERMINAL_TOKEN
    from kiosk.run import ConfigTerminals, run_kiosk
    from terminal.wiring import build_terminal

    beats: list[float] = []
    ticks: list[float] = []
    blocked: list[float] = []
    running = threading.Event()

    def count() -> None:  # a thread of the same process: never blocked
        while not running.wait(0.1):
            ticks.append(time.monotonic())

    def block(_dt: float) -> None:
        blocked.append(time.monotonic())
        time.sleep(BLOCK_S)  # the UI thread is stuck here
        blocked.append(time.monotonic())

    def heartbeat() -> None:
        beats.append(time.monotonic())
        if len(beats) == 4:
            Clock.schedule_once(block, 0)
        if blocked and len(beats) == 12:
            os.kill(os.getpid(), signal.SIGTERM)

    config = kiosk_config(backend_url, display={"width": 800, "height": 480,
                                                "fullscreen": False})
    threading.Thread(target=count, daemon=True).start()
    run_kiosk(ConfigTerminals(lambda: build_terminal(config, DEMO_TERMINAL_TOKEN)),
              heartbeat=heartbeat)
    running.set()
    print(json.dumps({"beats": beats, "ticks": ticks, "blocked": blocked}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
