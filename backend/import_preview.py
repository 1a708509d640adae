"""A CSV import shown line by line, and the uploaded file kept until it is confirmed.

The imports (``backend.users_import``, ``backend.billing_codes``) report problems as
``line N: column: message`` and what they would change as lists of keys; the page wants
one row per line of the file: what it would do, or its problems (column and message,
the message quoting the value). :func:`preview` joins the two by the key column.

An uploaded file is kept in ``import_uploads`` under its SHA-256 between the dry run
and the "apply" button, so that the file applied is the one whose dry run was shown; it
is deleted once applied, and uploads older than :data:`KEEP` are purged at each upload.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from backend.csv_input import read_csv
from backend.models import ImportUpload, utcnow

KEEP = timedelta(hours=24)
KINDS = ("users", "billing_codes")
_PROBLEM = re.compile(r"^line (\d+): (?:([A-Za-z_][\w ]*?|column \d+): )?(.*)$", re.S)


@dataclass(frozen=True)
class Problem:
    column: str  # "" when the problem is the whole line's
    message: str


@dataclass
class PreviewLine:
    line: int
    key: str  # the username or the code
    action: str  # create | update | deactivate | unchanged | error
    problems: list[Problem] = field(default_factory=list)


def preview(data: bytes, errors: list[str], key_column: str,
            actions: dict[str, str]) -> list[PreviewLine]:
    """One row per line: the report's ``errors`` parsed, the other lines' keys looked up
    in ``actions`` (key -> create/update/deactivate; absent: unchanged). Line 1 is the
    header: shown only when it has a problem."""
    table = read_csv(data)
    lines = {line: PreviewLine(line, values.get(key_column, ""),
                               actions.get(values.get(key_column, ""), "unchanged"))
             for line, values in table.rows}
    for error in errors:
        match = _PROBLEM.match(error)
        if match is None:
            continue
        number = int(match.group(1))
        row = lines.setdefault(number, PreviewLine(number, "", "error"))
        row.action = "error"
        row.problems.append(Problem(match.group(2) or "", match.group(3)))
    return [lines[number] for number in sorted(lines)]


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def keep(session: Session, kind: str, data: bytes, uploaded_by: str) -> str:
    """Store the upload (once per content) and purge old ones; returns its digest."""
    assert kind in KINDS
    digest = digest_of(data)
    session.execute(delete(ImportUpload).where(ImportUpload.created_at < utcnow() - KEEP))
    if session.get(ImportUpload, (digest, kind)) is None:
        session.add(ImportUpload(digest=digest, kind=kind, data=data, uploaded_by=uploaded_by))
    return digest


def kept(session: Session, kind: str, digest: str) -> bytes | None:
    found = session.get(ImportUpload, (digest, kind))
    return found.data if found is not None else None


def forget(session: Session, kind: str, digest: str) -> None:
    session.execute(delete(ImportUpload).where(ImportUpload.kind == kind,
                                               ImportUpload.digest == digest))
