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

The whole file is checked first, in one pass (the file's encoding and cells, header,
every line's fields, every parent), in a read transaction that takes no write lock;
every problem is reported with its line number, and any problem leaves the database
unchanged. ``dry_run`` stops there and reports what would change. A checked file is then
written in short batches (``backend.import_batches``) so that kiosks keep charging
during a large import; an import interrupted mid-way is completed by importing the same
file again (docs/operator-guide.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from backend.audit import record
from backend.csv_input import read_csv
from backend.db import Database
from backend.import_batches import bulk_insert, bulk_update, chunks, write_batches
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
ASSIGNEE_KINDS = ("user", "group", "cost_centre")


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


@dataclass(frozen=True)
class _Existing:
    id: int
    name: str
    parent: str | None  # the parent's code
    active: bool
    payer: str | None


@dataclass
class _Plan:
    """What the write phase does, decided from the file and one read of the database."""

    rows: list[_Row]
    changed: set[str]  # existing codes whose name, parent, active or payer change
    deactivate: list[int]  # ids of active codes absent from the file (--deactivate-missing)
    with_payer: bool


def _existing_codes(session: Session) -> dict[str, _Existing]:
    found = list(session.execute(select(BillingCode.id, BillingCode.code, BillingCode.name,
                                        BillingCode.parent_id, BillingCode.active,
                                        BillingCode.payer)))
    code_of = {row.id: row.code for row in found}
    return {row.code: _Existing(row.id, row.name, code_of.get(row.parent_id), row.active,
                                row.payer) for row in found}


def _assignee_ids(session: Session) -> dict[str, dict[str, int]]:
    """Every user, group and cost centre by name, read once (not one query per token)."""
    return {kind: {name: int(found) for name, found in session.execute(select(column, key))}
            for kind, column, key in (("user", User.username, User.id),
                                      ("group", Group.name, Group.id),
                                      ("cost_centre", CostCentre.code, CostCentre.id))}


def _assignee(ids: dict[str, dict[str, int]], token: str) -> tuple[str, int] | str:
    """("user", id) for "user:alice", or an error message."""
    kind, _, name = token.strip().partition(":")
    if kind not in ASSIGNEE_KINDS or not name:
        return f"assigned_to: {token.strip()!r} is not user:NAME, group:NAME or cost_centre:CODE"
    found = ids[kind].get(name)
    if found is None:
        return f"assigned_to: no {kind.replace('_', ' ')} {name!r}"
    return kind, found


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


def _row_problems(ids: dict[str, dict[str, int]], values: dict[str, str], columns: list[str],
                  seen: dict[str, int]) -> tuple[list[str], list[tuple[str, int]] | None]:
    """Every problem of one line's own fields (a column missing from the header is
    reported once, on line 1, not on every line), and its assignees."""
    problems: list[str] = []
    code, name = values.get("code", ""), values.get("name", "")
    if "code" in columns:
        if not code:
            problems.append("code: empty")
        elif len(code) > 64 or any(ch.isspace() for ch in code):
            problems.append(f"code: {code[:64]!r} must be 1-64 characters without spaces")
        elif code in seen:
            problems.append(f"code: {code!r} already on line {seen[code]}")
    if "name" in columns and not name:
        problems.append("name: empty")
    if len(name) > 200:
        problems.append("name: longer than 200 characters")
    active_text = values.get("active", "") or "true"
    if active_text.lower() not in TRUE_WORDS:
        problems.append(f"active: {active_text[:20]!r} is not true or false")
    payer = values.get("payer", "")
    if payer and payer not in PAYERS:
        problems.append(f"payer: {payer[:20]!r} is not {' or '.join(PAYERS)} "
                        "(or empty: as its client)")
    assignees: list[tuple[str, int]] | None = None
    if values.get("assigned_to"):
        assignees = []
        for token in values["assigned_to"].split(";"):
            if not token.strip():
                continue
            found = _assignee(ids, token)
            if isinstance(found, str):
                problems.append(found)
            elif found not in assignees:
                assignees.append(found)
    return problems, assignees


def _parse(session: Session, data: bytes | str, report: ImportReport,
           existing: dict[str, _Existing]) -> tuple[list[_Row], list[str]]:
    """Check the whole file in one pass: the header, every line's fields, then every
    parent, so that one run lists every problem, each with its line, sorted by line."""
    table = read_csv(data)
    columns = table.columns
    problems: list[tuple[int, str]] = list(table.problems)
    if table.decoded:
        problems.extend((1, problem) for problem in _header_problems(columns))
    ids = _assignee_ids(session) if "assigned_to" in columns else {}
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for line, raw in table.rows:
        values = {key: value for key, value in raw.items() if key in KNOWN_COLUMNS}
        found, assignees = _row_problems(ids, values, columns, seen)
        problems.extend((line, problem) for problem in found)
        code = values.get("code", "")
        if code and code not in seen:
            seen[code] = line
        rows.append(_Row(line, code, values.get("name", ""), values.get("parent") or None,
                         TRUE_WORDS.get((values.get("active") or "true").lower(), True),
                         None if assignees is None else tuple(assignees),
                         values.get("payer") or None))
    problems.extend(_parent_problems(existing, rows))
    report.errors.extend(f"line {line}: {problem}"
                         for line, problem in sorted(problems, key=lambda item: item[0]))
    return rows, columns


def _parent_problems(existing: dict[str, _Existing],
                     rows: list[_Row]) -> list[tuple[int, str]]:
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
        parent = existing.get(row.parent)
        if parent_row is None and parent is None:
            problems.append((row.line, f"parent: no billing code {row.parent[:64]!r}"))
        elif (parent_row.parent if parent_row is not None
              else parent.parent if parent is not None else None) is not None:
            problems.append((row.line, f"parent: {row.parent!r} is a project, "
                             "not a client (two levels only)"))
    return problems


def _plan(rows: list[_Row], existing: dict[str, _Existing], with_payer: bool,
          deactivate_missing: bool, report: ImportReport) -> _Plan:
    """Sort each line into created, updated, deactivated or unchanged, as the report says."""
    changed: set[str] = set()
    for row in rows:
        code = existing.get(row.code)
        if code is None:
            report.created.append(row.code)
            continue
        payer = row.payer if with_payer else code.payer
        if (code.name, code.parent, code.active, code.payer) != (
                row.name, row.parent, row.active, payer):
            changed.add(row.code)
            (report.deactivated if code.active and not row.active
             else report.updated).append(row.code)
    deactivate: list[int] = []
    if deactivate_missing:
        listed = {row.code for row in rows}
        for name, code in existing.items():
            if name not in listed and code.active:
                deactivate.append(code.id)
                report.deactivated.append(name)
    return _Plan(rows, changed, deactivate, with_payer)


def _code_ids(session: Session, codes: set[str]) -> dict[str, int]:
    if not codes:
        return {}
    return {code: int(found) for code, found in session.execute(
        select(BillingCode.code, BillingCode.id).where(BillingCode.code.in_(codes)))}


def _write_batch(plan: _Plan, rows: list[_Row], session: Session) -> None:
    """One batch of checked lines (all clients or all projects): codes inserted when
    missing or set to the file's values, and their assignments replaced when given."""
    ids = _code_ids(session, {row.code for row in rows} | {r.parent for r in rows if r.parent})
    new = [row for row in rows if row.code not in ids]
    bulk_insert(session, BillingCode, [
        {"code": row.code, "name": row.name, "active": row.active, "payer": row.payer,
         "parent_id": ids[row.parent] if row.parent else None} for row in new], "code")
    changes: list[dict[str, Any]] = []
    for row in rows:
        if row.code in plan.changed and row.code in ids:
            change = {"id": ids[row.code], "name": row.name, "active": row.active,
                      "parent_id": ids[row.parent] if row.parent else None}
            if plan.with_payer:
                change["payer"] = row.payer
            changes.append(change)
    bulk_update(session, BillingCode, changes)
    assigned = [row for row in rows if row.assignees is not None]
    if not assigned:
        return
    ids.update(_code_ids(session, {row.code for row in new}))
    session.execute(delete(BillingCodeAssignment).where(
        BillingCodeAssignment.billing_code_id.in_([ids[row.code] for row in assigned])))
    links = [{"billing_code_id": ids[row.code], "user_id": None, "group_id": None,
              "cost_centre_id": None, f"{kind}_id": owner}
             for row in assigned for kind, owner in row.assignees or ()]
    bulk_insert(session, BillingCodeAssignment, links)


def _deactivate(ids: list[int], session: Session) -> None:
    session.execute(update(BillingCode).where(BillingCode.id.in_(ids)).values(active=False))


def import_csv(db: Database, data: bytes | str, *, actor: str, dry_run: bool = False,
               deactivate_missing: bool = False, origin: str | None = None) -> ImportReport:
    """Check the whole file (a read transaction: no write lock), then, unless it has a
    problem or this is a dry run, write it in short batches (``backend.import_batches``).
    ``origin``: where the import came from, for its audit row (a page's address).

    Validation comes first so that the write phase cannot fail on the file's contents;
    re-importing the same file after an interruption converges (clients are written
    before their projects, every statement can be run twice).
    """
    report = ImportReport()
    with db.read() as session:
        existing = _existing_codes(session)
        rows, columns = _parse(session, data, report, existing)
    if report.errors:
        return report
    plan = _plan(rows, existing, "payer" in columns, deactivate_missing, report)
    if dry_run:
        return report
    clients = [row for row in rows if row.parent is None]
    projects = [row for row in rows if row.parent is not None]
    steps: list[Callable[[Session], None]] = [
        partial(_write_batch, plan, list(batch)) for batch in chunks(clients)]
    steps += [partial(_write_batch, plan, list(batch)) for batch in chunks(projects)]
    steps += [partial(_deactivate, list(batch)) for batch in chunks(plan.deactivate)]
    steps.append(lambda session: record(
        session, actor, "billing_codes.import", "billing_codes", {
            "created": len(report.created), "updated": len(report.updated),
            "deactivated": len(report.deactivated)}, origin=origin))
    write_batches(db, steps)
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
