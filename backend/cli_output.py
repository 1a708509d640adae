"""What the operator's commands print: aligned tables with headers, dates in the local
time zone of the machine (the operator's; stored values are UTC), and amounts as text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


def local_time(moment: datetime | None, never: str = "never") -> str:
    """A stored UTC timestamp in the machine's time zone, with the zone's name."""
    if moment is None:
        return never
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows,
                                                                       strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True))
        .rstrip() for line in lines)
