"""An X server of its own for each pytest-xdist worker but the first.

The UI tests type on the X keyboard (XTEST), and X sends keys to whichever window has
the focus on that display: two workers sharing xvfb-run's display would type into each
other's kiosks. The first worker keeps the display scripts/test.sh made; the others start
an Xvfb that picks a free display number itself (``-displayfd``), so no number is guessed.
"""

from __future__ import annotations

import atexit
import os
import select
import shutil
import subprocess

SCREEN = "1280x800x24"


def give_worker_its_own_display() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker in ("", "gw0") or not os.environ.get("DISPLAY") or shutil.which("Xvfb") is None:
        return  # not a second worker, or no display to keep apart from (UI tests say so)
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    os.close(write_end)
    ready, _, _ = select.select([read_end], [], [], 30.0)
    number = os.read(read_end, 64).decode().strip() if ready else ""
    os.close(read_end)
    if not number.isdigit():
        xvfb.kill()
        raise RuntimeError(f"Xvfb for pytest worker {worker} did not start within 30 s")
    os.environ["DISPLAY"] = f":{number}"
    atexit.register(xvfb.terminate)
