"""Prusa binary G-code (.bgcode): detection; the block reader follows in this module."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from analysis.gcode_model import GcodeAnalysis, GcodeError

MAGIC = b"GCDE"


def is_bgcode(path: Path) -> bool:
    """True when the file starts with the bgcode magic (the name does not matter)."""
    try:
        with Path(path).open("rb") as handle:
            return handle.read(4) == MAGIC
    except OSError:
        return False


def decode_bgcode(path: Path, destination: Path) -> Path:
    """Write the text G-code of a .bgcode file (verifying every block's CRC)."""
    raise GcodeError(path, "binary G-code is not read yet", block=0)


def analyse_bgcode(path: Path, *, diameter_mm: Decimal | None = None,
                   density_g_cm3: Decimal | None = None) -> GcodeAnalysis:
    raise GcodeError(path, "binary G-code is not read yet", block=0)
