"""What the kiosk knows of the 3D print it released, kept on disk across restarts.

The outbox journals the money (the hold, then the settlement), but following a print
needs more: which job and which file on the printer, how far the release got, and the
last file position and print time the printer reported. A restart reads this record to
tell "the printer is still printing our file" (follow it) from "the release stopped
before the print started" (settle ``not_started``) and "the printer lost our job"
(settle ``failed`` at the last position seen). It is one small JSON file replaced
atomically (temp file, fsync, rename) whenever it changes, so a power cut leaves the
old record or the new one, never half of one.

One kiosk drives one printer, so there is one record at most.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

# How far a release got, in order. Up to ``uploading`` the printer cannot be printing
# the job; from ``starting`` it may be (the start may have reached it before a crash).
PHASES = ("claiming", "downloading", "uploading", "starting", "printing")


@dataclass(frozen=True)
class PrintRecord:
    """One released 3D job: its hold (``hold_key`` in the outbox), the job, the file
    name on the printer's server, the local copy of the G-code, and the progress last
    seen. ``started_at`` is the wall-clock time the start was asked (epoch seconds)."""

    hold_key: str
    hold_id: str
    username: str
    job_id: int
    name: str
    printer_file: str
    local_file: str
    currency: str
    held: Decimal
    grams_estimate: Decimal
    phase: str = "claiming"
    started_at: float | None = None
    seen_printing: bool = False
    cancel_requested: bool = False
    file_position: int | None = None
    file_size: int | None = None
    print_time_s: int | None = None
    printer_filament_mm: Decimal | None = None

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"print record phase {self.phase!r}: not one of {PHASES}")

    def at(self, phase: str, **changes: Any) -> PrintRecord:
        return replace(self, phase=phase, **changes)

    @property
    def may_be_printing(self) -> bool:
        """True once the start may have reached the printer."""
        return PHASES.index(self.phase) >= PHASES.index("starting")


class PrintRecordStore:
    """The record in ``path`` (a JSON file), written atomically."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> PrintRecord | None:
        """The record, or None when there is none. A record that cannot be read is an
        error naming the file: guessing would settle someone's print wrongly."""
        try:
            raw = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            data = json.loads(raw)
            for key in ("held", "grams_estimate", "printer_filament_mm"):
                if data.get(key) is not None:
                    data[key] = Decimal(data[key])
            return PrintRecord(**data)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{self._path}: not a 3D print record: {exc}") from exc

    def save(self, record: PrintRecord) -> None:
        data = asdict(record)
        for key in ("held", "grams_estimate", "printer_filament_mm"):
            if data[key] is not None:
                data[key] = str(data[key])
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(data, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self._path)

    def clear(self) -> None:
        self._path.unlink(missing_ok=True)
