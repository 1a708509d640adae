"""Provision users from a CSV export of the organisation's directory.

CSV format (UTF-8, header required; columns in any order)::

    username,display_name,email,language,groups,cost_centre,status,cards,overdraft_limit,roles
    alice,Alice Martin,alice@example.org,fr,staff;library,CC100,active,04A1B2C3D4,0.00,
    tess,Tess Technician,,en,,,,,,technician

Only ``username`` and ``display_name`` are required. ``groups`` and ``cards`` are
``;``-separated; groups and cost centres are created when missing. An empty cell leaves
that setting of an existing user as it is: an empty ``groups`` cell keeps the user's
groups (a directory export with a blank cell must not strip everyone's quota group);
``-`` removes every group. A non-empty ``groups`` cell replaces the user's groups.
``cards`` are added (never removed: a lost card is removed on purpose, not by omission);
a card that belongs to another user is an error. ``status`` is active or disabled.
``roles`` (optional column) lists the account's roles (``technician``, ``cashier``,
``admin``), separated by ``;`` or spaces, like ``groups``: empty keeps the user's roles,
``-`` removes them all, anything else replaces them; an unknown role is an error. Who
got which roles is written in the import's audit row (a role is a privilege).
PINs are not imported: users set them at the desk.

Like the billing-code import it works in two phases. First the whole file is read and
checked (header, every line, cards already another user's) in a read transaction, which
takes no write lock; every problem is reported with its line number, and any problem
writes nothing. ``dry_run`` stops there. Then the checked lines are written in batches
(``backend.import_batches``): the write phase cannot fail on the file's contents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.audit import record
from backend.csv_input import read_csv
from backend.db import Database
from backend.import_batches import bulk_insert, bulk_update, chunks, write_batches
from backend.models import ROLES, Card, CostCentre, Group, User, UserGroup, UserRole
from backend.money import parse_amount
from backend.security import card_hash

REQUIRED_COLUMNS = ("username", "display_name")
KNOWN_COLUMNS = ("username", "display_name", "email", "language", "groups", "cost_centre",
                 "status", "cards", "overdraft_limit", "roles")
LANGUAGES = ("en", "fr")
CLEAR = "-"  # in the groups or roles cell: remove every group or role
_SPACE = re.compile(r"\s")
_ROLE_SEPARATORS = re.compile(r"[;\s]+")


@dataclass
class UserImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    applied: bool = False


@dataclass(frozen=True)
class _UserRow:
    line: int
    values: dict[str, str]
    groups: tuple[str, ...] | None  # None: leave the user's groups as they are
    roles: tuple[str, ...] | None  # None: leave the user's roles as they are
    cards: tuple[str, ...]  # keyed hashes
    overdraft: Decimal | None


@dataclass
class _Known:
    """What the checks need from the database, read once (not one query per line)."""

    usernames: set[str]
    card_owners: dict[str, str]  # card hash -> username


def _known(session: Session) -> _Known:
    return _Known(
        set(session.scalars(select(User.username))),
        {digest: owner for digest, owner in session.execute(
            select(Card.card_hash, User.username).join(User, Card.user_id == User.id))},
    )


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _check_row(line: int, values: dict[str, str], cards: list[tuple[str, str]],
               columns: list[str], seen: dict[str, int], card_lines: dict[str, int],
               known: _Known) -> list[str]:
    """Every problem of one line, the database's included (a card that is another user's),
    so that the first run lists them all. A column missing from the header is reported
    once, on line 1, not on every line."""
    problems: list[str] = []
    username = values.get("username", "")
    if "username" in columns:
        if not username or len(username) > 100 or _SPACE.search(username):
            problems.append(f"username: {username!r} must be 1-100 characters without spaces")
        elif username in seen:
            problems.append(f"username: {username!r} already on line {seen[username]}")
        else:
            seen[username] = line
    if "display_name" in columns and not values.get("display_name"):
        problems.append("display_name: empty")
    if len(values.get("display_name", "")) > 200:
        problems.append("display_name: longer than 200 characters")
    if values.get("language") and values["language"] not in LANGUAGES:
        problems.append(f"language: {values['language']!r} is not one of {', '.join(LANGUAGES)}")
    if values.get("status") and values["status"] not in ("active", "disabled"):
        problems.append(f"status: {values['status']!r} is not active or disabled")
    if values.get("email") and ("@" not in values["email"] or len(values["email"]) > 254):
        problems.append(f"email: {values['email'][:254]!r} is not an e-mail address")
    for name in _split(values.get("groups", "")):
        if len(name) > 100 or (name == CLEAR and values["groups"] != CLEAR):
            problems.append(f"groups: {name[:100]!r} is not a group name (1-100 characters; "
                            f"{CLEAR!r} alone removes every group)")
    for role in _ROLE_SEPARATORS.split(values.get("roles", "").strip()):
        if role and role not in ROLES and not (role == CLEAR and values["roles"].strip() == CLEAR):
            problems.append(f"roles: {role[:40]!r} is not one of {', '.join(ROLES)} "
                            f"({CLEAR!r} alone removes every role)")
    if len(values.get("cost_centre", "")) > 64:
        problems.append("cost_centre: longer than 64 characters")
    for card, digest in cards:
        owner = known.card_owners.get(digest)
        if digest in card_lines:
            problems.append(f"cards: {card!r} already on line {card_lines[digest]}")
        else:
            card_lines[digest] = line
            if owner is not None and owner != username:
                problems.append(f"cards: {card!r} belongs to another user")
    return problems


def _groups(cell: str | None) -> tuple[str, ...] | None:
    if not cell:
        return None
    return () if cell == CLEAR else tuple(dict.fromkeys(_split(cell)))


def _roles(cell: str | None) -> tuple[str, ...] | None:
    cell = (cell or "").strip()
    if not cell:
        return None
    return () if cell == CLEAR else tuple(sorted(set(_ROLE_SEPARATORS.split(cell))))


def _parse(session: Session, data: bytes | str, secret: bytes,
           report: UserImportReport) -> list[_UserRow]:
    """Check the whole file in one pass: a bad header does not hide the lines' problems."""
    table = read_csv(data)
    problems = list(table.problems)
    columns = table.columns
    missing = [column for column in REQUIRED_COLUMNS
               if column not in columns and table.decoded]
    unknown = [column for column in columns if column not in KNOWN_COLUMNS]
    if missing:
        problems.append((1, f"missing column(s): {', '.join(missing)}"))
    if unknown:
        problems.append((1, f"unknown column(s): {', '.join(unknown)} "
                            f"(allowed: {', '.join(KNOWN_COLUMNS)})"))
    known = _known(session)
    rows: list[_UserRow] = []
    seen: dict[str, int] = {}
    card_lines: dict[str, int] = {}
    for line, values in table.rows:  # an unknown column is a problem: nothing is written
        cards = [(card, card_hash(secret, card)) for card in _split(values.get("cards", ""))]
        found = _check_row(line, values, cards, columns, seen, card_lines, known)
        overdraft = None
        if values.get("overdraft_limit"):
            try:
                overdraft = parse_amount(values["overdraft_limit"])
            except ValueError as exc:
                found.append(f"overdraft_limit: {exc}")
        problems.extend((line, problem) for problem in found)
        if not found:
            rows.append(_UserRow(line, values, _groups(values.get("groups")),
                                 _roles(values.get("roles")),
                                 tuple(digest for _, digest in cards), overdraft))
    report.errors.extend(f"line {line}: {problem}"
                         for line, problem in sorted(problems, key=lambda item: item[0]))
    for row in rows:
        (report.updated if row.values["username"] in known.usernames
         else report.created).append(row.values["username"])
    return rows


def _ids(session: Session, column: Any, key: Any, names: set[str]) -> dict[str, int]:
    if not names:
        return {}
    return {name: int(found) for name, found in
            session.execute(select(column, key).where(column.in_(names)))}


def _names_ids(session: Session, rows: list[_UserRow]) -> tuple[dict[str, int], dict[str, int]]:
    """Ids of the batch's groups and cost centres, creating the missing ones."""
    groups = {name for row in rows for name in row.groups or ()}
    centres = {row.values["cost_centre"] for row in rows if row.values.get("cost_centre")}
    bulk_insert(session, Group, [{"name": name} for name in sorted(groups)], "name")
    bulk_insert(session, CostCentre,
                   [{"code": code, "name": code} for code in sorted(centres)], "code")
    return (_ids(session, Group.name, Group.id, groups),
            _ids(session, CostCentre.code, CostCentre.id, centres))


def _user_values(row: _UserRow, centre_ids: dict[str, int]) -> dict[str, Any]:
    """The columns this line sets: an empty cell sets nothing (the user's value stays)."""
    values = row.values
    changes: dict[str, Any] = {"display_name": values["display_name"]}
    for column in ("email", "language", "status"):
        if values.get(column):
            changes[column] = values[column]
    if row.overdraft is not None:
        changes["overdraft_limit"] = row.overdraft
    if values.get("cost_centre"):
        changes["cost_centre_id"] = centre_ids[values["cost_centre"]]
    return changes


def _write_batch(rows: list[_UserRow], session: Session) -> None:
    """One batch of checked lines: users, their groups and cards, as bulk statements."""
    group_ids, centre_ids = _names_ids(session, rows)
    names = {row.values["username"] for row in rows}
    existing = _ids(session, User.username, User.id, names)
    bulk_insert(session, User, [
        {"language": "en", "status": "active", "overdraft_limit": Decimal("0.00"),
         "email": None, "cost_centre_id": None, "username": row.values["username"],
         **_user_values(row, centre_ids)}
        for row in rows if row.values["username"] not in existing], "username")
    bulk_update(session, User, [{"id": existing[row.values["username"]],
                                 **_user_values(row, centre_ids)}
                                for row in rows if row.values["username"] in existing])
    ids = _ids(session, User.username, User.id, names)
    regrouped = [row for row in rows if row.groups is not None]
    if regrouped:
        session.execute(delete(UserGroup).where(
            UserGroup.user_id.in_([ids[row.values["username"]] for row in regrouped])))
        pairs = [{"user_id": ids[row.values["username"]], "group_id": group_ids[name]}
                 for row in regrouped for name in row.groups or ()]
        bulk_insert(session, UserGroup, pairs)
    reroled = [row for row in rows if row.roles is not None]
    if reroled:
        session.execute(delete(UserRole).where(
            UserRole.user_id.in_([ids[row.values["username"]] for row in reroled])))
        bulk_insert(session, UserRole, [{"user_id": ids[row.values["username"]], "role": role}
                                        for row in reroled for role in row.roles or ()])
    bulk_insert(session, Card, [
        {"user_id": ids[row.values["username"]], "card_hash": digest, "label": "import"}
        for row in rows for digest in row.cards], "card_hash")


def import_users_csv(db: Database, data: bytes | str, secret: bytes, *, actor: str,
                     dry_run: bool = False, origin: str | None = None) -> UserImportReport:
    """Check the whole file (no write lock), then write it in short batches, or nothing.
    ``origin``: where the import came from, for its audit row (a page's address).

    Re-importing the same file after an interruption converges: users are inserted when
    missing and set to the file's values, groups are replaced, cards added when missing.
    """
    report = UserImportReport()
    with db.read() as session:
        rows = _parse(session, data, secret, report)
    if report.errors or dry_run:
        return report
    steps: list[Callable[[Session], None]] = [
        partial(_write_batch, list(batch)) for batch in chunks(rows)]
    # Roles are privileges: the audit row says who got which (not only how many).
    roles_set = {row.values["username"]: list(row.roles) for row in rows
                 if row.roles is not None}
    steps.append(lambda session: record(session, actor, "users.import", "users", {
        "created": len(report.created), "updated": len(report.updated),
        **({"roles": roles_set} if roles_set else {})}, origin=origin))
    write_batches(db, steps)
    report.applied = True
    return report
