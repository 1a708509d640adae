"""Billing codes (seed 000): a client -> project hierarchy, who may use which code, CSV
import, prefix search and each user's recent codes.

CSV format (UTF-8, header required; columns in any order)::

    code,name,parent,active,assigned_to,payer
    ACME,ACME Corp,,true,group:staff,code
    ACME-WEB,ACME website redesign,ACME,true,user:alice;cost_centre:CC100,

``parent`` empty makes a client, otherwise the row is a project of that client (two
levels only). ``active`` is true/false (default true): false deactivates the code.
``assigned_to`` is a ``;``-separated list of ``user:``, ``group:`` or ``cost_centre:``;
a client's assignees may use all its projects. When given, it replaces the code's
assignments. ``payer`` says who pays for a job charged to the code: ``user`` (the user's
credit; the code is only recorded) or ``code`` (the receivable of the code's client);
empty inherits from the client, and a client without a setting means ``user``. A file
without the column leaves the codes' settings as they are.

The import is all-or-nothing: the whole file is checked in one pass (header, every
line's fields, every parent) and every problem is reported with its line number; any
problem leaves the database unchanged. ``dry_run`` reports what would change without
writing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from backend.audit import record
from backend.ledger import Payer
from backend.models import (
    BillingCode,
    BillingCodeAssignment,
    BillingCodeUse,
    CostCentre,
    Group,
    User,
    UserGroup,
    utcnow,
)

REQUIRED_COLUMNS = ("code", "name")
KNOWN_COLUMNS = ("code", "name", "parent", "active", "assigned_to", "payer")
PAYERS = ("user", "code")
DEFAULT_PAYER = "user"
TRUE_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    applied: bool = False


@dataclass(frozen=True)
class _Row:
    line: int
    code: str
    name: str
    parent: str | None
    active: bool
    assignees: tuple[tuple[str, int], ...] | None
    payer: str | None  # None: inherit


def _assignee(session: Session, token: str) -> tuple[str, int] | str:
    """("user", id) for "user:alice", or an error message."""
    kind, _, name = token.strip().partition(":")
    lookups = {
        "user": (User, User.username),
        "group": (Group, Group.name),
        "cost_centre": (CostCentre, CostCentre.code),
    }
    if kind not in lookups or not name:
        return f"assigned_to: {token.strip()!r} is not user:NAME, group:NAME or cost_centre:CODE"
    model, column = lookups[kind]
    found = session.scalar(select(model.id).where(column == name))  # type: ignore[attr-defined]
    if found is None:
        return f"assigned_to: no {kind.replace('_', ' ')} {name!r}"
    return kind, int(found)


def _header_problems(columns: list[str]) -> list[str]:
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    unknown = [column for column in columns if column not in KNOWN_COLUMNS]
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)} "
                        f"(allowed: {', '.join(KNOWN_COLUMNS)})")
    return problems


def _row_problems(session: Session, values: dict[str, str], columns: list[str],
                  seen: dict[str, int]) -> tuple[list[str], list[tuple[str, int]] | None]:
    """Every problem of one line's own fields (a column missing from the header is
    reported once, on line 1, not on every line), and its assignees."""
    problems: list[str] = []
    code, name = values.get("code", ""), values.get("name", "")
    if "code" in columns:
        if not code:
            problems.append("code: empty")
        elif len(code) > 64 or any(ch.isspace() for ch in code):
            problems.append(f"code: {code!r} must be 1-64 characters without spaces")
        elif code in seen:
            problems.append(f"code: {code!r} already on line {seen[code]}")
    if "name" in columns and not name:
        problems.append("name: empty")
    active_text = values.get("active", "") or "true"
    if active_text.lower() not in TRUE_WORDS:
        problems.append(f"active: {active_text!r} is not true or false")
    payer = values.get("payer", "")
    if payer and payer not in PAYERS:
        problems.append(f"payer: {payer!r} is not {' or '.join(PAYERS)} "
                        "(or empty: as its client)")
    assignees: list[tuple[str, int]] | None = None
    if values.get("assigned_to"):
        assignees = []
        for token in values["assigned_to"].split(";"):
            if not token.strip():
                continue
            found = _assignee(session, token)
            if isinstance(found, str):
                problems.append(found)
            else:
                assignees.append(found)
    return problems, assignees


def _parse(session: Session, text: str, report: ImportReport) -> list[_Row]:
    """Check the whole file in one pass: the header, every line's fields, then every
    parent, so that one run lists every problem, each with its line, sorted by line."""
    reader = csv.DictReader(io.StringIO(text))
    columns = [column.strip() for column in reader.fieldnames or []]
    problems: list[tuple[int, str]] = [(1, problem) for problem in _header_problems(columns)]
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        values = {key.strip(): (value or "").strip() for key, value in raw.items()
                  if key and key.strip() in KNOWN_COLUMNS}
        found, assignees = _row_problems(session, values, columns, seen)
        problems.extend((line, problem) for problem in found)
        code = values.get("code", "")
        if code and code not in seen:
            seen[code] = line
        rows.append(_Row(line, code, values.get("name", ""), values.get("parent") or None,
                         TRUE_WORDS.get((values.get("active") or "true").lower(), True),
                         None if assignees is None else tuple(assignees),
                         values.get("payer") or None))
    problems.extend(_parent_problems(session, rows))
    report.errors.extend(f"line {line}: {problem}"
                         for line, problem in sorted(problems, key=lambda item: item[0]))
    return rows


def _parent_problems(session: Session, rows: list[_Row]) -> list[tuple[int, str]]:
    in_file: dict[str, _Row] = {}
    for row in rows:
        in_file.setdefault(row.code, row)
    problems: list[tuple[int, str]] = []
    for row in rows:
        if row.parent is None:
            continue
        if row.parent == row.code:
            problems.append((row.line, "parent: a code cannot be its own parent"))
            continue
        parent_row = in_file.get(row.parent)
        if parent_row is not None:
            if parent_row.parent is not None:
                problems.append((row.line, f"parent: {row.parent!r} is a project, "
                                 "not a client (two levels only)"))
            continue
        existing = session.scalar(select(BillingCode).where(BillingCode.code == row.parent))
        if existing is None:
            problems.append((row.line, f"parent: no billing code {row.parent!r}"))
        elif existing.parent_id is not None:
            problems.append((row.line, f"parent: {row.parent!r} is a project, "
                             "not a client (two levels only)"))
    return problems


def _columns(text: str) -> list[str]:
    return [column.strip() for column in csv.DictReader(io.StringIO(text)).fieldnames or []]


def import_csv(session: Session, text: str, *, actor: str, dry_run: bool = False,
               deactivate_missing: bool = False) -> ImportReport:
    """Apply the whole file or nothing. Run inside ``Database.write()``; on errors or a dry
    run, everything this function wrote is rolled back through a savepoint."""
    report = ImportReport()
    rows = _parse(session, text, report)
    if report.errors:
        return report
    savepoint = session.begin_nested()
    with_payer = "payer" in _columns(text)
    by_code = {code.code: code for code in session.scalars(select(BillingCode))}
    for row in sorted(rows, key=lambda r: r.parent is not None):  # clients first
        code = by_code.get(row.code)
        parent_id = by_code[row.parent].id if row.parent else None
        payer = row.payer if with_payer else (code.payer if code is not None else None)
        if code is None:
            code = BillingCode(code=row.code, name=row.name, parent_id=parent_id,
                               active=row.active, payer=payer)
            session.add(code)
            session.flush()
            by_code[row.code] = code
            report.created.append(row.code)
        elif ((code.name, code.parent_id, code.active, code.payer)
              != (row.name, parent_id, row.active, payer)):
            if code.active and not row.active:
                report.deactivated.append(row.code)
            else:
                report.updated.append(row.code)
            code.name, code.parent_id, code.active = row.name, parent_id, row.active
            code.payer = payer
        if row.assignees is not None:
            session.execute(delete(BillingCodeAssignment)
                            .where(BillingCodeAssignment.billing_code_id == code.id))
            for kind, owner in row.assignees:
                session.add(BillingCodeAssignment(billing_code_id=code.id,
                                                  **{f"{kind}_id": owner}))
    if deactivate_missing:
        listed = {row.code for row in rows}
        for code in by_code.values():
            if code.code not in listed and code.active:
                code.active = False
                report.deactivated.append(code.code)
    session.flush()
    if dry_run:
        savepoint.rollback()
        return report
    savepoint.commit()
    record(session, actor, "billing_codes.import", "billing_codes", {
        "created": len(report.created), "updated": len(report.updated),
        "deactivated": len(report.deactivated)})
    report.applied = True
    return report


def _usable_ids(session: Session, user: User) -> Select[tuple[int]]:
    """Ids of the codes assigned to the user directly, by group or by cost centre."""
    group_ids = select(UserGroup.group_id).where(UserGroup.user_id == user.id)
    conditions = [BillingCodeAssignment.user_id == user.id,
                  BillingCodeAssignment.group_id.in_(group_ids)]
    if user.cost_centre_id is not None:
        conditions.append(BillingCodeAssignment.cost_centre_id == user.cost_centre_id)
    return select(BillingCodeAssignment.billing_code_id).where(or_(*conditions))


def usable_codes(session: Session, user: User, prefix: str = "",
                 limit: int = 20) -> list[BillingCode]:
    """Active codes the user may charge, whose code or name starts with ``prefix``."""
    assigned = _usable_ids(session, user)
    query = select(BillingCode).where(
        BillingCode.active.is_(True),
        or_(BillingCode.id.in_(assigned), BillingCode.parent_id.in_(assigned)),
    )
    if prefix:
        pattern = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(func.lower(BillingCode.code).like(pattern + "%", escape="\\"),
                                func.lower(BillingCode.name).like(pattern + "%", escape="\\")))
    return list(session.scalars(query.order_by(BillingCode.code).limit(limit)))


def find_usable(session: Session, user: User, code: str) -> BillingCode | None:
    found = [c for c in usable_codes(session, user, code, limit=1000) if c.code == code]
    return found[0] if found else None


def note_use(session: Session, user_id: int, code_id: int) -> None:
    use = session.scalar(select(BillingCodeUse).where(
        BillingCodeUse.user_id == user_id, BillingCodeUse.billing_code_id == code_id))
    if use is None:
        session.add(BillingCodeUse(user_id=user_id, billing_code_id=code_id))
    else:
        use.last_used_at = utcnow()


def recent_codes(session: Session, user: User, limit: int = 5) -> list[BillingCode]:
    return list(session.scalars(
        select(BillingCode).join(BillingCodeUse, BillingCodeUse.billing_code_id == BillingCode.id)
        .where(BillingCodeUse.user_id == user.id, BillingCode.active.is_(True))
        .order_by(BillingCodeUse.last_used_at.desc(), BillingCode.code).limit(limit)
    ))


def effective_payer(session: Session, code: BillingCode) -> Payer:
    """The code's own setting, else its client's, else the user pays (today's behaviour)."""
    parent = session.get(BillingCode, code.parent_id) if code.parent_id else None
    payer = code.payer or (parent.payer if parent is not None else None) or DEFAULT_PAYER
    return "code" if payer == "code" else "user"


def code_json(code: BillingCode, session: Session) -> dict[str, str | None]:
    parent = session.get(BillingCode, code.parent_id) if code.parent_id else None
    return {"code": code.code, "name": code.name,
            "client": parent.code if parent else None,
            "client_name": parent.name if parent else None,
            "payer": effective_payer(session, code)}
