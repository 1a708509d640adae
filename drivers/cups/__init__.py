"""Held print jobs on a CUPS server: list, change, release, cancel, purge, follow.

A standalone library with its own types (:mod:`drivers.cups.types`) and exceptions
(:mod:`drivers.cups.errors`). Importing it opens no socket and works without pycups;
:func:`is_usable` says whether pycups is there. See docs/print-release.md.
"""

from drivers.cups.errors import (
    CupsError,
    CupsUnavailable,
    JobNotFound,
    JobNotHeld,
    NotPermitted,
    PrinterNotReady,
)
from drivers.cups.hold_queue import CupsHoldQueue, is_usable
from drivers.cups.printer_state import problem_of
from drivers.cups.types import HeldJob, JobProgress, PrinterStatus

__all__ = [
    "CupsError",
    "CupsHoldQueue",
    "CupsUnavailable",
    "HeldJob",
    "JobNotFound",
    "JobNotHeld",
    "JobProgress",
    "NotPermitted",
    "PrinterNotReady",
    "PrinterStatus",
    "is_usable",
    "problem_of",
]
