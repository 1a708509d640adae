"""Provision users from a CSV export of the organisation's directory.

CSV format (UTF-8, header required; columns in any order)::

    username,display_name,email,language,groups,cost_centre,status,cards,overdraft_limit
    alice,Alice Martin,alice@example.org,fr,staff;library,CC100,active,04A1B2C3D4,0.00

Only ``username`` and ``display_name`` are required. ``groups`` and ``cards`` are
``;``-separated; groups and cost centres are created when missing. ``cards`` are
added (never removed: a lost card is removed on purpose, not by omission); a card that
belongs to another user is an error. ``status`` is active or disabled. PINs are not
imported: users set them at the desk. Like the billing-code import it checks the whole
file in one pass (header, every line, cards already another user's) and reports every
problem with its line number; any problem writes nothing. ``dry_run`` writes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import record
from backend.models import Card, CostCentre, Group, User
from backend.money import parse_amount
from backend.security import card_hash, normalise_card

REQUIRED_COLUMNS = ("username", "display_name")
KNOWN_COLUMNS = ("username", "display_name", "email", "language", "groups", "cost_centre",
                 "status", "cards", "overdraft_limit")
LANGUAGES = ("en", "fr")


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
    groups: tuple[str, ...]
    cards: tuple[str, ...]
    overdraft: Decimal | None


def _card_owner(session: Session, digest: str) -> str | None:
    return session.scalar(select(User.username).join(Card, Card.user_id == User.id)
                          .where(Card.card_hash == digest))


def _check_row(session: Session, line: int, values: dict[str, str], columns: list[str],
               seen: dict[str, int], card_lines: dict[str, int], secret: bytes) -> list[str]:
    """Every problem of one line, the database's included (a card that is another user's),
    so that the first run lists them all. A column missing from the header is reported
    once, on line 1, not on every line."""
    problems: list[str] = []
    username = values.get("username", "")
    if "username" in columns:
        if not username or len(username) > 100 or any(ch.isspace() for ch in username):
            problems.append(f"username: {username!r} must be 1-100 characters without spaces")
        elif username in seen:
            problems.append(f"username: {username!r} already on line {seen[username]}")
        else:
            seen[username] = line
    if "display_name" in columns and not values.get("display_name"):
        problems.append("display_name: empty")
    if values.get("language") and values["language"] not in LANGUAGES:
        problems.append(f"language: {values['language']!r} is not one of {', '.join(LANGUAGES)}")
    if values.get("status") and values["status"] not in ("active", "disabled"):
        problems.append(f"status: {values['status']!r} is not active or disabled")
    if values.get("email") and "@" not in values["email"]:
        problems.append(f"email: {values['email']!r} is not an e-mail address")
    if values.get("overdraft_limit"):
        try:
            parse_amount(values["overdraft_limit"])
        except ValueError as exc:
            problems.append(f"overdraft_limit: {exc}")
    for card in filter(None, (c.strip() for c in values.get("cards", "").split(";"))):
        digest = card_hash(secret, card)
        if not normalise_card(card):
            problems.append("cards: empty card number")
        elif digest in card_lines:
            problems.append(f"cards: {card!r} already on line {card_lines[digest]}")
        else:
            card_lines[digest] = line
            owner = _card_owner(session, digest)
            if owner is not None and owner != username:
                problems.append(f"cards: {card!r} belongs to another user")
    return problems


def _parse(session: Session, text: str, secret: bytes,
           report: UserImportReport) -> list[_UserRow]:
    """Check the whole file in one pass: a bad header does not hide the lines' problems."""
    reader = csv.DictReader(io.StringIO(text))
    columns = [column.strip() for column in reader.fieldnames or []]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    unknown = [column for column in columns if column not in KNOWN_COLUMNS]
    if missing:
        report.errors.append(f"line 1: missing column(s): {', '.join(missing)}")
    if unknown:
        report.errors.append(f"line 1: unknown column(s): {', '.join(unknown)} "
                             f"(allowed: {', '.join(KNOWN_COLUMNS)})")
    rows: list[_UserRow] = []
    seen: dict[str, int] = {}
    card_lines: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        values = {key.strip(): (value or "").strip() for key, value in raw.items()
                  if key and key.strip() in KNOWN_COLUMNS}
        problems = _check_row(session, line, values, columns, seen, card_lines, secret)
        report.errors.extend(f"line {line}: {problem}" for problem in problems)
        if problems:
            continue
        rows.append(_UserRow(
            line, values,
            tuple(filter(None, (g.strip() for g in values.get("groups", "").split(";")))),
            tuple(filter(None, (c.strip() for c in values.get("cards", "").split(";")))),
            parse_amount(values["overdraft_limit"]) if values.get("overdraft_limit") else None,
        ))
    return rows


def _group(session: Session, name: str) -> Group:
    group = session.scalar(select(Group).where(Group.name == name))
    if group is None:
        group = Group(name=name)
        session.add(group)
        session.flush()
    return group


def _cost_centre(session: Session, code: str) -> CostCentre:
    centre = session.scalar(select(CostCentre).where(CostCentre.code == code))
    if centre is None:
        centre = CostCentre(code=code, name=code)
        session.add(centre)
        session.flush()
    return centre


def _apply(session: Session, row: _UserRow, secret: bytes, report: UserImportReport) -> None:
    values = row.values
    user = session.scalar(select(User).where(User.username == values["username"]))
    if user is None:
        user = User(username=values["username"], display_name=values["display_name"],
                    overdraft_limit=Decimal("0.00"))
        session.add(user)
        report.created.append(user.username)
    else:
        report.updated.append(user.username)
    user.display_name = values["display_name"]
    user.email = values.get("email") or user.email
    user.language = values.get("language") or user.language or "en"
    user.status = values.get("status") or user.status or "active"
    if row.overdraft is not None:
        user.overdraft_limit = row.overdraft
    if values.get("cost_centre"):
        user.cost_centre_id = _cost_centre(session, values["cost_centre"]).id
    if "groups" in values:
        user.groups = [_group(session, name) for name in row.groups]
    session.flush()
    for card in row.cards:  # another user's card was refused by _check_row
        digest = card_hash(secret, card)
        if session.scalar(select(Card.id).where(Card.card_hash == digest)) is None:
            session.add(Card(user_id=user.id, card_hash=digest, label="import"))


def import_users_csv(session: Session, text: str, secret: bytes, *, actor: str,
                     dry_run: bool = False) -> UserImportReport:
    """Apply the whole file or nothing (inside ``Database.write()``, via a savepoint)."""
    report = UserImportReport()
    rows = _parse(session, text, secret, report)
    if report.errors:
        return report
    savepoint = session.begin_nested()
    for row in rows:
        _apply(session, row, secret, report)
    session.flush()
    if dry_run:
        savepoint.rollback()
        return report
    savepoint.commit()
    record(session, actor, "users.import", "users",
           {"created": len(report.created), "updated": len(report.updated)})
    report.applied = True
    return report
