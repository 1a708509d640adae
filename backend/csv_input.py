"""Reading an operator's CSV file defensively, before any import looks at its meaning.

Why a module of its own: a directory export or a spreadsheet can be anything (Latin-1,
a binary file given by mistake, a cell pasted from a PDF with NUL bytes, a line with one
comma too many). Each of these must come back as a line-numbered problem, never as a
traceback, a silently dropped value or a NUL stored in the database. Both imports (users,
billing codes) read through here, so they refuse the same things in the same words.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import dataclass, field

from backend.text import CONTROL_CHARACTER

# A CSV import of 100 000 users is about 10 MB; 64 MiB leaves room and still stops
# /dev/zero or a disk image given by mistake before it fills the memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_FIELD_CHARS = 128 * 1024  # csv's own default limit (field_size_limit), left as it is


class CsvFileRefused(ValueError):
    """Not a regular file, or larger than MAX_FILE_BYTES (then not read further)."""


@dataclass
class CsvTable:
    """The header (stripped names) and the data lines, each with its line number, or the
    problems of the file (then ``rows`` is empty). ``decoded`` is False when the file is
    not text at all: then there is no header to check either."""

    columns: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    decoded: bool = True


def read_limited(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes. A device (/dev/zero, which
    never ends) or a FIFO (whose open would wait for a writer) is refused unopened."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise CsvFileRefused("not a regular file")
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise CsvFileRefused(f"larger than {limit // (1024 * 1024)} MiB")
    return data


def _decode(data: bytes) -> tuple[str | None, list[tuple[int, str]]]:
    """UTF-8 (a leading BOM, as spreadsheets write it, is dropped), or where it is not."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [(line, f"column {column}: not UTF-8 (byte 0x{data[exc.start]:02x}); "
                             "save the file as UTF-8 CSV")]


def _control_characters(text: str) -> str | None:
    """The first control character of a cell, as U+XXXX, or None."""
    found = CONTROL_CHARACTER.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def _cell_problems(column: str, value: str) -> list[str]:
    bad = _control_characters(value)
    if bad is not None:
        return [f"{column}: contains the control character {bad} (tabs, line breaks and "
                "NUL are not allowed in a cell)"]
    return []


def read_csv(data: bytes | str) -> CsvTable:
    """Decode and split the file, checking every cell; the imports check the meaning.

    Values are stripped of surrounding spaces (``a, b`` is the common hand-written form).
    A line with more values than the header has columns is a problem (the extra values
    would otherwise be dropped without a word); fewer values leave the last columns empty.
    """
    table = CsvTable()
    if isinstance(data, bytes):
        text, table.problems = _decode(data)
        if text is None:
            table.decoded = False
            return table
    else:
        text = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
        table.columns = [name.strip() for name in header]
        for number, name in enumerate(table.columns, start=1):
            table.problems.extend((1, problem)
                                  for problem in _cell_problems(f"column {number}", name))
            if name in table.columns[: number - 1]:
                table.problems.append((1, f"column {number}: {name!r} is a second time"))
        for values in reader:
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue  # a blank line (a trailing one is common)
            if len(values) > len(table.columns):
                table.problems.append((line, f"{len(values)} values for "
                                             f"{len(table.columns)} columns"))
                continue
            row = {name: value.strip() for name, value in zip(table.columns, values, strict=False)}
            if CONTROL_CHARACTER.search("".join(values)) is None:  # one search a line, not a cell
                table.rows.append((line, row))
                continue
            table.problems.extend((line, problem) for name, value in row.items()
                                  for problem in _cell_problems(name or "(unnamed column)",
                                                                value))
    except csv.Error as exc:
        # The reader cannot go on after this: the rest of the file is not checked.
        reason = (f"a cell longer than {MAX_FIELD_CHARS // 1024} KiB"
                  if "field larger than field limit" in str(exc) else str(exc))
        table.problems.append((reader.line_num, f"not a readable CSV line: {reason} "
                                                "(the lines after it were not checked)"))
    if table.problems:
        table.rows = []
    return table
