"""The values G-code analysis returns, its one error, and the grams arithmetic.

Every figure is a Decimal (a quote is money's input); lengths are rounded to 0.01 mm and
grams to 0.01 g, which is finer than any slicer states and than a scale weighs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

# pi to 30 places: Decimal has no constant, and float pi would leak float into the money path
PI = Decimal("3.141592653589793238462643383280")
MM = Decimal("0.01")
GRAMS = Decimal("0.01")
CM3 = Decimal("0.0001")  # 0.1 mm3: a test cube is 50 mm3
DEFAULT_DIAMETER_MM = Decimal("1.75")
DEFAULT_DENSITY_G_CM3 = Decimal("1.24")


class GcodeError(Exception):
    """A G-code/bgcode file that cannot be analysed.

    ``reason`` is one sentence; ``line`` is the 1-based number of the offending text line
    (None for bgcode block errors, which set ``block``, the 0-based block index, instead).
    """

    def __init__(self, path: Path | str, reason: str, *, line: int | None = None,
                 block: int | None = None) -> None:
        where = f" (line {line})" if line is not None else ""
        where += f" (block {block})" if block is not None else ""
        super().__init__(f"{path}: {reason}{where}")
        self.path = Path(path)
        self.reason = reason
        self.line = line
        self.block = block


@dataclass(frozen=True)
class SlicerFigures:
    """What the slicer wrote in its comments; every field may be None (nothing stated)."""

    slicer: str | None = None
    version: str | None = None
    filament_mm: tuple[Decimal, ...] | None = None
    filament_cm3: tuple[Decimal, ...] | None = None
    filament_g: tuple[Decimal, ...] | None = None
    time_s: int | None = None
    diameter_mm: Decimal | None = None
    density_g_cm3: Decimal | None = None
    material: str | None = None
    printer_model: str | None = None


@dataclass(frozen=True)
class GcodeAnalysis:
    """Our figures for one file, beside the slicer's (``slicer``); see docs/gcode-analysis.md."""

    path: Path
    format: str
    size_bytes: int
    filament_mm: tuple[Decimal, ...]
    total_mm: Decimal
    diameter_mm: Decimal
    density_g_cm3: Decimal
    volume_cm3: Decimal
    grams: Decimal
    layers: int
    bbox_mm: tuple[tuple[Decimal, Decimal, Decimal], tuple[Decimal, Decimal, Decimal]] | None
    time_s: int
    time_source: str
    our_time_s: int
    slicer: SlicerFigures
    volumetric: bool
    checkpoints: tuple[tuple[int, Decimal], ...]
    grams_source: str = "ours"
    # filament extruded before the slicer's first layer marker (start G-code prime/purge
    # lines): included in ours, left out of every slicer's stated total
    start_gcode_mm: Decimal = Decimal("0.00")
    # ours counted the way the slicer counts its own figure (what to compare it with)
    comparable_mm: Decimal | None = None


def cross_section_mm2(diameter_mm: Decimal) -> Decimal:
    """The filament's cross-section: what turns a length of filament into a volume."""
    return PI * diameter_mm * diameter_mm / 4


def volume_cm3_of(mm: Decimal, diameter_mm: Decimal) -> Decimal:
    """Volume of ``mm`` of filament (unrounded, in cm3)."""
    return mm * cross_section_mm2(diameter_mm) / 1000


def grams_of(mm: Decimal, diameter_mm: Decimal, density_g_cm3: Decimal) -> Decimal:
    """Grams of ``mm`` of filament of that diameter and density, rounded to 0.01 g."""
    if diameter_mm <= 0 or density_g_cm3 <= 0:
        raise ValueError("diameter and density must be positive")
    grams = volume_cm3_of(mm, diameter_mm) * density_g_cm3
    return grams.quantize(GRAMS, rounding=ROUND_HALF_EVEN)


def mm_decimal(value: float) -> Decimal:
    """A float length (the engine's accumulator) as Decimal mm, rounded to 0.01 mm."""
    return Decimal(f"{value:.2f}") + 0  # "+ 0" turns "-0.00" into "0.00"
