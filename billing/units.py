"""The vocabulary a price list is written in: functions, colour, media sizes, sides.

Values are the lower-case words used in the TOML files, so a message about a bad file
can list the allowed words straight from the enum.
"""

from __future__ import annotations

import enum


class Function(enum.Enum):
    """What the device did; each has its own rates (a scan is not a print)."""

    PRINT = "print"
    COPY = "copy"
    SCAN = "scan"
    FAX = "fax"
    PRINT_3D = "print3d"


PAPER_FUNCTIONS: tuple[Function, ...] = (
    Function.PRINT, Function.COPY, Function.SCAN, Function.FAX,
)


class Colour(enum.Enum):
    """How a side is billed: a blank or grey side is a mono side."""

    MONO = "mono"
    COLOUR = "colour"


class MediaSize(enum.Enum):
    """Paper sizes with a price of their own; values match the terminal's paper names."""

    A5 = "A5"
    A4 = "A4"
    A3 = "A3"
    LETTER = "Letter"
    LEGAL = "Legal"
    TABLOID = "Tabloid"


class DuplexCharging(enum.Enum):
    """Whether a paper rate is per printed side or per sheet of paper.

    Per side (the usual click model): a duplex sheet costs its two sides, each at the
    duplex side rate. Per sheet: a sheet costs the simplex or duplex sheet rate whether
    one or two sides are printed.
    """

    PER_SIDE = "per_side"
    PER_SHEET = "per_sheet"

