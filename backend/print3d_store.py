"""The 3D job files on disk, written so that a crash never leaves half a job.

An upload is streamed into a temporary file in the storage directory (``.upload-*``),
fsynced, analysed, and renamed to its final name (``<job id>.gcode``) inside the
database transaction that inserts the job's row, just before the commit; the directory
is fsynced after the rename. So:

* a crash before the rename leaves a temporary file and no row, and a crash between
  the rename and the commit a file named by an id with no row: :meth:`JobFiles.clean_orphans`
  removes both at the next start, once older than an hour (another backend process on
  the same PostgreSQL may be between its own rename and commit right now; a later job
  that gets the same id writes its file over it by rename anyway);
* a failed commit removes the renamed file at once.

Files are named by the job id, never by what the user called them: a name is a path a
stranger chose ("../../etc/passwd", a NUL, 4 000 characters).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

TEMP_PREFIX = ".upload-"
CHUNK = 1024 * 1024
_STORED = re.compile(r"^(\d+)\.(gcode|bgcode)$")
ORPHAN_AGE_S = 3600.0


class FileTooLarge(Exception):
    """The upload passed the size limit (``limit`` bytes); nothing is kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than {limit // (1024 * 1024)} MiB")
        self.limit = limit


@dataclass
class TempUpload:
    """A file being received: counted and hashed as it is written, never held in memory."""

    path: Path
    limit: int
    size: int = 0

    def __post_init__(self) -> None:
        self._hash = hashlib.sha256()
        self._file = self.path.open("xb")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise FileTooLarge(self.limit)
        self._hash.update(data)
        self._file.write(data)

    def finish(self) -> str:
        """Flush to disk (fsync) and return the sha256 of what was written."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self._hash.hexdigest()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


class JobFiles:
    """The storage directory of the 3D jobs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def prepare(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def temp_upload(self, limit: int) -> TempUpload:
        self.prepare()
        return TempUpload(self.temp_path(), limit)

    def temp_path(self, suffix: str = "") -> Path:
        return self.directory / f"{TEMP_PREFIX}{uuid.uuid4().hex}{suffix}"

    def path_of(self, stored_name: str) -> Path:
        if not _STORED.match(stored_name):
            raise ValueError(f"{stored_name!r} is not a stored job file name")
        return self.directory / stored_name

    def install(self, temp: Path, stored_name: str) -> Path:
        """Rename a finished temporary file to its final name (atomic) and make the
        rename durable."""
        final = self.path_of(stored_name)
        os.replace(temp, final)
        self._sync_directory()
        return final

    def remove(self, *stored_names: str | None) -> None:
        for name in stored_names:
            if name:
                self.path_of(name).unlink(missing_ok=True)

    def clean_orphans(self, known_ids: set[int], now: float | None = None) -> list[str]:
        """Remove what a crash left: old temporary files, and files of ids without a row.
        Returns the names removed (for the log)."""
        if not self.directory.is_dir():
            return []
        now = time.time() if now is None else now
        removed: list[str] = []
        for entry in self.directory.iterdir():
            match = _STORED.match(entry.name)
            orphan = entry.name.startswith(TEMP_PREFIX) or (
                match is not None and int(match.group(1)) not in known_ids)
            if orphan and now - entry.stat().st_mtime > ORPHAN_AGE_S:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
                removed.append(entry.name)
        return sorted(removed)

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
