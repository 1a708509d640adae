"""Atomic writes of the kiosk's files: the kiosk file, the terminal token, the local PIN.

A Raspberry Pi loses power whenever someone pulls the plug, and an SD card keeps
whatever the kernel had flushed. A settings change written in place could leave half a
file, and a kiosk that refuses to start on it. So a file is never written in place: the
new text goes to a temporary file in the same directory (same filesystem, so the rename
is atomic), is flushed and fsynced, the current file is kept as ``<name>.previous``
(written the same way), then ``os.replace`` swaps the new one in and the directory is
fsynced so that the rename itself survives a power cut. A reader sees the old file or
the new one, never a mix; a crash at any point leaves at worst a stray ``.tmp`` file,
which the next write removes.

``PRINTKIOSK_CONFIG_STORE_PAUSE`` (seconds) makes a write pause after the fsync and
before the rename: the window a test kills the process in, to show the old file stays.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

PAUSE_ENV = "PRINTKIOSK_CONFIG_STORE_PAUSE"
PREVIOUS_SUFFIX = ".previous"


def previous_path(path: Path) -> Path:
    """Where the version before the last write is kept."""
    return path.with_name(path.name + PREVIOUS_SUFFIX)


def write_atomic(path: Path, data: bytes | str, mode: int = 0o644,
                 keep_previous: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically; the old content (if any) becomes
    ``<name>.previous`` when ``keep_previous``. ``mode`` is set on the temporary file
    before any byte is written, so a secret is never readable by others, even briefly."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if keep_previous and path.exists():
        _replace(previous_path(path), path.read_bytes(), _mode_of(path))
    _replace(path, raw, mode, pause=True)


def restore_previous(path: Path) -> bool:
    """Swap ``<name>.previous`` back in (the current one becomes the previous, so a
    restore can itself be undone); False when there is no previous version."""
    previous = previous_path(path)
    if not previous.exists():
        return False
    old = previous.read_bytes()
    old_mode = _mode_of(previous)
    write_atomic(path, old, old_mode, keep_previous=True)
    return True


def _mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _replace(path: Path, raw: bytes, mode: int, pause: bool = False) -> None:
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob(f".{path.name}.*.tmp"):  # left by a write killed mid-way
        stale.unlink(missing_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    temp = Path(temp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        if pause:
            _pause()
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


def _pause() -> None:
    pause = os.environ.get(PAUSE_ENV)
    if pause:
        time.sleep(float(pause))


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
