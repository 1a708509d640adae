"""terminal.config_store: a write killed at any point leaves the old file or the new one,
never half of either; the previous version is kept and can be swapped back."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from terminal.config_store import PAUSE_ENV, previous_path, restore_previous, write_atomic

REPO = Path(__file__).resolve().parents[2]
OLD = "[terminal]\nname = 'old'\n" + "# old padding\n" * 2000
NEW = "[terminal]\nname = 'new'\n" + "# new padding\n" * 2000

WRITER = """
import sys
from pathlib import Path
from terminal.config_store import write_atomic
path = Path(sys.argv[1])
text = sys.argv[2]
while True:
    write_atomic(path, text)
    if sys.argv[3] == "once":
        break
"""


def child(path: Path, text: str, pause: str | None, loop: bool = False) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(PAUSE_ENV, None)
    if pause is not None:
        env[PAUSE_ENV] = pause
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), text,
                             "loop" if loop else "once"], env=env)


def test_a_write_sigkilled_between_fsync_and_rename_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(OLD)
    process = child(path, NEW, pause="30")
    deadline = time.monotonic() + 20
    temp: list[Path] = []
    while time.monotonic() < deadline:  # the new text is on disk, not yet renamed
        temp = [p for p in tmp_path.glob(".kiosk.toml.*.tmp") if p.read_text() == NEW]
        if temp:
            break
        time.sleep(0.02)
    assert temp, "the writer never reached the window between fsync and rename"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert path.read_text() == OLD
    assert previous_path(path).read_text() == OLD  # kept before the swap
    write_atomic(path, NEW)  # the next write cleans the killed one's leftover
    assert path.read_text() == NEW
    assert list(tmp_path.glob(".kiosk.toml.*.tmp")) == []


def test_kills_at_random_points_never_let_a_reader_see_a_half_written_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(OLD)
    seen: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(path.read_text())

    reader = threading.Thread(target=read)
    reader.start()
    rng = random.Random(16)
    try:
        for round_ in range(12):
            text = NEW if round_ % 2 else OLD
            process = child(path, text, pause=None, loop=True)
            time.sleep(0.15 + rng.random() * 0.3)  # kill somewhere in the write loop
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            assert path.read_text() in (OLD, NEW)
    finally:
        stop.set()
        reader.join()
    assert seen <= {OLD, NEW}
    assert seen == {OLD, NEW}  # the reader did see both versions come and go


def test_secret_mode_is_set_before_the_content_and_restore_swaps_back(tmp_path: Path) -> None:
    token = tmp_path / "token"
    write_atomic(token, "first\n", mode=0o600)
    assert token.stat().st_mode & 0o777 == 0o600
    write_atomic(token, "second\n", mode=0o600)
    assert previous_path(token).read_text() == "first\n"
    assert previous_path(token).stat().st_mode & 0o777 == 0o600
    assert restore_previous(token)
    assert token.read_text() == "first\n" and previous_path(token).read_text() == "second\n"
    assert token.stat().st_mode & 0o777 == 0o600
    assert not restore_previous(tmp_path / "absent.toml")
