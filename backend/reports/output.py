"""A report written out: an aligned text table, CSV, PNG or SVG, to a file or stdout.

A file is written beside its final name and renamed into place, so a failed report
never leaves half a file under the name asked for.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from backend.reports.chart import render
from backend.reports.csv_export import report_csv
from backend.reports.engine import cells, columns, run, total
from backend.reports.query import ReportQuery

FORMATS = ("table", "csv", "png", "svg")


def table_lines(session: Session, query: ReportQuery) -> Iterator[str]:
    """The report as aligned text, with the ungrouped total as the last line."""
    header = columns(query)
    rows = [cells(row) for row in run(session, query)]
    whole = cells(total(session, query))
    width = len(header) - len(whole)
    footer = ["TOTAL"] + [""] * (width - 1) + whole if width else whole
    widths = [max(len(line[i]) for line in (header, *rows, footer)) for i in range(len(header))]
    for line in (header, *rows, footer):
        yield "  ".join(cell.ljust(w) if i < width else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(line, widths, strict=True)))


def chart_title(query: ReportQuery, measure: str) -> str:
    return (f"{measure.replace('_', ' ')} by {', '.join(query.by)}, "
            f"{query.start.date()} to {query.end.date()}")


def write(session: Session, query: ReportQuery, fmt: str, output: Path | None,
          measure: str = "pages") -> None:
    """Write the report; ``output`` None: stdout (text formats only)."""
    if fmt in ("png", "svg"):
        data = render(run(session, query), query.by, measure, fmt, chart_title(query, measure))
        if output is None:
            sys.stdout.buffer.write(data)
            return
        with _replacing(output, "wb") as stream:
            stream.write(data)
        return
    lines = table_lines(session, query) if fmt == "table" else report_csv(session, query)
    end = "\n" if fmt == "table" else ""
    if output is None:
        for line in lines:
            sys.stdout.write(line + end)
        return
    with _replacing(output, "w") as stream:
        for line in lines:
            stream.write(line + end)


class _replacing:
    """A temporary file in the target's folder, renamed onto it on success."""

    def __init__(self, target: Path, mode: str) -> None:
        self.target, self.mode = target, mode

    def __enter__(self):  # type: ignore[no-untyped-def]
        fd, name = tempfile.mkstemp(dir=self.target.parent, prefix=f".{self.target.name}.")
        self.temporary = Path(name)
        self.stream = os.fdopen(fd, self.mode, newline="" if "b" not in self.mode else None)
        return self.stream

    def __exit__(self, kind: object, *_rest: object) -> None:
        self.stream.close()
        if kind is None:
            os.replace(self.temporary, self.target)
        else:
            self.temporary.unlink(missing_ok=True)
