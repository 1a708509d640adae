"""What is priced: a paper job (sides per colour and size) or a 3D print (grams, minutes).

Counts are per copy and ``copies`` multiplies them, because that is how a print server
describes a held job and how a user changes it at the kiosk. The period's volume so far
travels separately (:class:`PeriodVolume`) because tiers and included pages depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from billing.units import Colour, Function, MediaSize


@dataclass(frozen=True, slots=True)
class PeriodVolume:
    """Pages of the counted functions already billed in this accounting period."""

    mono: int = 0
    colour: int = 0

    def __post_init__(self) -> None:
        if self.mono < 0 or self.colour < 0:
            raise ValueError(f"period volume cannot be negative: {self}")

    def of(self, colour: Colour) -> int:
        return self.mono if colour is Colour.MONO else self.colour

    def __add__(self, other: PeriodVolume) -> PeriodVolume:
        return PeriodVolume(self.mono + other.mono, self.colour + other.colour)


@dataclass(frozen=True)
class PaperJob:
    """Sides per (colour, size) of one copy, how many copies, sides mode, minutes used."""

    function: Function = Function.PRINT
    sides: Mapping[tuple[Colour, MediaSize], int] = field(default_factory=dict)
    duplex: bool = False
    copies: int = 1
    minutes: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.function is Function.PRINT_3D:
            raise ValueError("a 3D print is a Print3DJob, not a PaperJob")
        if isinstance(self.copies, bool) or self.copies < 1:
            raise ValueError(f"copies must be at least 1, not {self.copies!r}")
        if any(count < 0 for count in self.sides.values()):
            raise ValueError(f"side counts cannot be negative: {dict(self.sides)}")
        if not isinstance(self.minutes, Decimal) or self.minutes < 0:
            raise ValueError(f"minutes must be a non-negative Decimal, not {self.minutes!r}")

    @classmethod
    def simple(
        cls,
        mono: int = 0,
        colour: int = 0,
        *,
        size: MediaSize = MediaSize.A4,
        duplex: bool = False,
        copies: int = 1,
        function: Function = Function.PRINT,
        minutes: Decimal = Decimal(0),
    ) -> PaperJob:
        """The common case: one paper size, so many mono and colour sides per copy."""
        sides = {(Colour.MONO, size): mono, (Colour.COLOUR, size): colour}
        return cls(function, {k: n for k, n in sides.items() if n}, duplex, copies, minutes)

    def total_sides(self, colour: Colour | None = None) -> int:
        """Sides of all copies, of one colour or all."""
        per_copy = sum(n for (c, _), n in self.sides.items() if colour in (None, c))
        return per_copy * self.copies

    def in_mono(self) -> PaperJob:
        """The same job with every colour side printed in mono."""
        merged: dict[tuple[Colour, MediaSize], int] = {}
        for (_, size), count in self.sides.items():
            merged[(Colour.MONO, size)] = merged.get((Colour.MONO, size), 0) + count
        return replace(self, sides=merged)

    def in_duplex(self) -> PaperJob:
        return replace(self, duplex=True)


@dataclass(frozen=True, slots=True)
class Print3DJob:
    """A 3D print as the slicer estimates it (or as it really ran): material, grams, minutes."""

    material: str
    grams: Decimal
    minutes: Decimal

    def __post_init__(self) -> None:
        for name in ("grams", "minutes"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"{name} must be a non-negative Decimal, not {value!r}")


Job = PaperJob | Print3DJob
