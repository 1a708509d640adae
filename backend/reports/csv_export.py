"""A report as CSV, streamed: a generator of lines, never the whole file in memory.

Every cell that a spreadsheet would read as a formula (it starts with ``= + - @``, a tab
or a carriage return) is prefixed with ``'``: a display name such as ``=HYPERLINK(...)``
stays text when the administrator opens the export (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from sqlalchemy.orm import Session

from backend.reports.engine import ReportRow, cells, columns, iter_rows
from backend.reports.query import ReportQuery

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(cell: str) -> str:
    """The cell as text a spreadsheet will not evaluate."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_lines(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """One CSV line (with its line end) per row, every cell guarded."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([guard(cell) for cell in header])
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([guard(cell) for cell in row])
        yield buffer.getvalue()


def report_csv(session: Session, query: ReportQuery) -> Iterator[str]:
    """The report's CSV lines, fetched from the database as they are written."""
    rows: Iterator[ReportRow] = iter_rows(session, query)
    return csv_lines(columns(query), (cells(row) for row in rows))
