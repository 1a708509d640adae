"""Held print jobs on a CUPS server: list, change, release, cancel, purge, follow.

A standalone library with its own types (:mod:`drivers.cups.types`) and exceptions
(:mod:`drivers.cups.errors`). Importing it opens no socket and works without pycups;
:func:`is_usable` says whether pycups is there. :mod:`drivers.cups.sandbox` starts a
private CUPS server with a virtual printer, for the demo and the tests.
See docs/print-release.md.
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
from drivers.cups.sandbox import CupsSandbox, sandbox_tools_missing
from drivers.cups.types import HeldJob, JobProgress, PrinterStatus

__all__ = [
    "CupsError",
    "CupsHoldQueue",
    "CupsSandbox",
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
    "sandbox_tools_missing",
]
