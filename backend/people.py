"""The administration of people: users, their cards, PINs, web passwords, roles and
adjustments, groups and cost centres — the rules the console's pages and the CLI share.

Every function runs inside the caller's write transaction and writes its audit row
(who: ``actor``, from where: ``origin``) in that same transaction. A refused change
raises :class:`Refused` with a stable ``code`` and the ``field`` it concerns; the page
shows its translation next to that field. Nothing here knows about HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from backend import roles as role_grants
from backend.audit import record
from backend.ledger import Balance, LedgerError, account_key, adjust, held_amount
from backend.models import (
    ROLES,
    Account,
    AccountKind,
    AdminAdjustment,
    BillingCodeAssignment,
    Card,
    CostCentre,
    Group,
    LedgerTransaction,
    QuotaRule,
    User,
    UserGroup,
)
from backend.money import fmt
from backend.security import card_hash, hash_pin, normalise_card
from backend.web.passwords import hash_password, password_problem
from backend.web.sessions import end_user_sessions

LANGUAGES = ("en", "fr")
STATUSES = ("active", "disabled")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_OPERATION = re.compile(r"^[0-9a-f]{32}$")


class Refused(Exception):
    """A change that breaks a rule; ``field`` names the form field it concerns."""

    def __init__(self, field: str, code: str, **values: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code
        self.values = values


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int
    page: int
    pages: int


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def find_users(session: Session, query: str = "", group_id: int | None = None,
               status: str | None = None, page: int = 1, per_page: int = 25) -> UserPage:
    """Users whose username, name or e-mail contains ``query``, by username, one page."""
    where: list[Any] = []
    if query.strip():
        pattern = _like(query.strip())
        where.append(or_(func.lower(User.username).like(pattern, escape="\\"),
                         func.lower(User.display_name).like(pattern, escape="\\"),
                         func.lower(User.email).like(pattern, escape="\\")))
    if group_id is not None:
        where.append(User.id.in_(select(UserGroup.user_id).where(
            UserGroup.group_id == group_id)))
    if status in STATUSES:
        where.append(User.status == status)
    total = session.scalar(select(func.count()).select_from(User).where(*where)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    users = list(session.scalars(select(User).where(*where).order_by(User.username)
                                 .offset((page - 1) * per_page).limit(per_page)))
    return UserPage(users, total, page, pages)


def user_named(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


@dataclass(frozen=True)
class Profile:
    """What the user's page edits in one form."""

    display_name: str
    email: str
    language: str
    cost_centre_id: int | None
    group_ids: tuple[int, ...]
    overdraft_limit: Decimal
    status: str


def check_profile(session: Session, profile: Profile) -> list[Refused]:
    """Every problem of the form at once, so that the page shows them all."""
    problems = []
    if not profile.display_name.strip() or len(profile.display_name) > 200:
        problems.append(Refused("display_name", "display_name_length"))
    if profile.email and (len(profile.email) > 254 or not _EMAIL.match(profile.email)):
        problems.append(Refused("email", "email_invalid"))
    if profile.language not in LANGUAGES:
        problems.append(Refused("language", "language_unknown"))
    if profile.status not in STATUSES:
        problems.append(Refused("status", "status_unknown"))
    if profile.overdraft_limit < 0:
        problems.append(Refused("overdraft_limit", "overdraft_negative"))
    if (profile.cost_centre_id is not None
            and session.get(CostCentre, profile.cost_centre_id) is None):
        problems.append(Refused("cost_centre", "cost_centre_unknown"))
    known = set(session.scalars(select(Group.id).where(Group.id.in_(profile.group_ids))))
    if known != set(profile.group_ids):
        problems.append(Refused("groups", "group_unknown"))
    return problems


def update_profile(session: Session, user: User, profile: Profile, *, actor: str,
                   origin: str | None) -> dict[str, Any]:
    """Apply the form; returns (and audits) what changed, old and new. Disabling an
    account ends its web sessions (the kiosk refuses it at the next identification)."""
    problems = check_profile(session, profile)
    if problems:
        raise problems[0]
    before = {"display_name": user.display_name, "email": user.email or "",
              "language": user.language, "cost_centre_id": user.cost_centre_id,
              "overdraft_limit": fmt(user.overdraft_limit), "status": user.status,
              "groups": sorted(group.id for group in user.groups)}
    after = {"display_name": profile.display_name.strip(), "email": profile.email,
             "language": profile.language, "cost_centre_id": profile.cost_centre_id,
             "overdraft_limit": fmt(profile.overdraft_limit), "status": profile.status,
             "groups": sorted(profile.group_ids)}
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if not changed:
        return changed
    user.display_name = after["display_name"]  # type: ignore[assignment]
    user.email = profile.email or None
    user.language = profile.language
    user.cost_centre_id = profile.cost_centre_id
    user.overdraft_limit = profile.overdraft_limit
    user.status = profile.status
    if "groups" in changed:
        user.groups = list(session.scalars(select(Group).where(
            Group.id.in_(profile.group_ids))))
    if profile.status == "disabled" and before["status"] != "disabled":
        end_user_sessions(session, user.id)
    record(session, actor, "user.update", user.username, changed, origin=origin)
    session.flush()
    return changed


def add_card(session: Session, secret: bytes, user: User, raw_number: str, label: str, *,
             actor: str, origin: str | None) -> Card:
    """A card for the user, stored as its keyed hash (normalised as the kiosk does);
    the number itself is neither stored nor audited."""
    number = normalise_card(raw_number)
    if not number or len(number) > 64:
        raise Refused("card", "card_empty")
    if len(label) > 100:
        raise Refused("label", "label_long")
    digest = card_hash(secret, number)
    owner = session.scalar(select(User.username).join(Card, Card.user_id == User.id)
                           .where(Card.card_hash == digest))
    if owner is not None:
        raise Refused("card", "card_own" if owner == user.username else "card_taken")
    card = Card(user_id=user.id, card_hash=digest, label=label.strip() or None)
    session.add(card)
    session.flush()
    record(session, actor, "user.card_add", user.username,
           {"card": card.id, "label": card.label}, origin=origin)
    return card


def remove_card(session: Session, user: User, card_id: int, *, actor: str,
                origin: str | None) -> None:
    card = session.get(Card, card_id)
    if card is None or card.user_id != user.id:
        raise Refused("card", "card_unknown")
    record(session, actor, "user.card_remove", user.username,
           {"card": card.id, "label": card.label}, origin=origin)
    session.delete(card)
    session.flush()


def pin_problem(pin: str) -> Refused | None:
    if not (pin.isdigit() and pin.isascii() and 4 <= len(pin) <= 8):
        return Refused("pin", "pin_format")
    return None


def set_pin(session: Session, user: User, pin_hash: str | None, *, actor: str,
            origin: str | None) -> None:
    """Store a PIN hashed by :func:`hash_new_pin` beforehand (scrypt is slow: never under
    the write lock), or clear it (None: the user sets one at the desk)."""
    user.pin_hash = pin_hash
    record(session, actor, "user.pin_reset" if pin_hash else "user.pin_clear",
           user.username, origin=origin)
    session.flush()


def hash_new_pin(secret: bytes, pin: str) -> str:
    problem = pin_problem(pin)
    if problem is not None:
        raise problem
    return hash_pin(secret, pin)


def hash_new_password(secret: bytes, password: str) -> str:
    if password_problem(password) is not None:
        raise Refused("password", "password_rule")
    return hash_password(secret, password)


def set_password(session: Session, user: User, password_hash: str, *, actor: str,
                 origin: str | None) -> int:
    """A new web password; every web session of the user ends. Returns how many did."""
    user.password_hash = password_hash
    ended = end_user_sessions(session, user.id)
    record(session, actor, "user.password_reset", user.username,
           {"sessions_ended": ended}, origin=origin)
    session.flush()
    return ended


def change_role(session: Session, user: User, role: str, grant: bool, *, actor_user: str,
                origin: str | None) -> bool:
    """Grant or revoke ``role``; an administrator cannot take their own administrator
    role away (the site could be left with nobody to run it). Returns whether it changed."""
    if role not in ROLES:
        raise Refused("role", "role_unknown")
    if not grant and role == "administrator" and user.username == actor_user:
        raise Refused("role", "role_own_administrator")
    actor = f"staff:{actor_user}"
    change = (role_grants.grant if grant else role_grants.revoke)(
        session, user.username, role, actor, origin=origin)
    session.expire(user, ["role_grants"])
    return change.changed


def adjust_once(session: Session, user: User, currency: str, *, operation: str,
                account_kind: str, amount: Decimal, reason: str, actor: str,
                origin: str | None) -> tuple[LedgerTransaction, bool]:
    """``backend.ledger.adjust`` once per operation id: the same id again returns the
    transaction it made (a double click, a reload) and posts nothing. Returns
    (transaction, whether it was posted now)."""
    if not _OPERATION.match(operation):
        raise Refused("operation", "operation_invalid")
    done = session.get(AdminAdjustment, operation)
    if done is not None:
        found = session.get(LedgerTransaction, done.transaction_id)
        assert found is not None
        return found, False
    if amount == 0:
        raise Refused("amount", "amount_zero")
    try:
        posted = adjust(session, user, currency, account_kind=account_kind, amount=amount,
                        reason=reason.strip(), actor=actor, origin=origin)
    except LedgerError as exc:
        field = "reason" if exc.code == "reason_required" else (
            "account" if exc.code == "account_invalid" else "amount")
        raise Refused(field, exc.code) from exc
    session.add(AdminAdjustment(operation=operation, transaction_id=posted.id))
    session.flush()
    return posted, True


# --- groups and cost centres


@dataclass(frozen=True)
class GroupRow:
    id: int
    name: str
    members: int
    uses: int  # quota rules and billing-code assignments


@dataclass(frozen=True)
class CostCentreRow:
    id: int
    code: str
    name: str
    members: int
    uses: int  # billing-code assignments


def groups(session: Session) -> list[GroupRow]:
    members = (select(UserGroup.group_id, func.count().label("n"))
               .group_by(UserGroup.group_id).subquery())
    rows = session.execute(select(Group.id, Group.name, func.coalesce(members.c.n, 0))
                           .outerjoin(members, members.c.group_id == Group.id)
                           .order_by(Group.name))
    return [GroupRow(int(gid), str(name), int(count), _group_uses(session, int(gid)))
            for gid, name, count in rows]


def _group_uses(session: Session, group_id: int) -> int:
    quota = session.scalar(select(func.count()).select_from(QuotaRule)
                           .where(QuotaRule.group_id == group_id)) or 0
    codes = session.scalar(select(func.count()).select_from(BillingCodeAssignment)
                           .where(BillingCodeAssignment.group_id == group_id)) or 0
    return int(quota) + int(codes)


def cost_centres(session: Session) -> list[CostCentreRow]:
    members = (select(User.cost_centre_id, func.count().label("n"))
               .group_by(User.cost_centre_id).subquery())
    rows = session.execute(select(CostCentre.id, CostCentre.code, CostCentre.name,
                                  func.coalesce(members.c.n, 0))
                           .outerjoin(members, members.c.cost_centre_id == CostCentre.id)
                           .order_by(CostCentre.code))
    return [CostCentreRow(int(cid), str(code), str(name), int(count),
                          int(session.scalar(select(func.count()).select_from(
                              BillingCodeAssignment).where(
                              BillingCodeAssignment.cost_centre_id == cid)) or 0))
            for cid, code, name, count in rows]


def _check_name(field: str, name: str, limit: int) -> str:
    name = name.strip()
    if not name or len(name) > limit:
        raise Refused(field, "name_length", limit=str(limit))
    return name


def create_group(session: Session, name: str, *, actor: str, origin: str | None) -> Group:
    name = _check_name("name", name, 100)
    if session.scalar(select(Group.id).where(Group.name == name)) is not None:
        raise Refused("name", "name_taken")
    group = Group(name=name)
    session.add(group)
    session.flush()
    record(session, actor, "group.create", name, origin=origin)
    return group


def rename_group(session: Session, group_id: int, name: str, *, actor: str,
                 origin: str | None) -> Group:
    group = session.get(Group, group_id)
    if group is None:
        raise Refused("name", "group_unknown")
    name = _check_name("name", name, 100)
    if name != group.name:
        if session.scalar(select(Group.id).where(Group.name == name)) is not None:
            raise Refused("name", "name_taken")
        record(session, actor, "group.rename", name, {"from": group.name}, origin=origin)
        group.name = name
        session.flush()
    return group


def delete_group(session: Session, group_id: int, *, actor: str, origin: str | None) -> None:
    """Only an unused group: its members, quota rule or billing codes would silently lose
    their meaning otherwise."""
    row = next((found for found in groups(session) if found.id == group_id), None)
    if row is None:
        raise Refused("name", "group_unknown")
    if row.members:
        raise Refused("name", "group_has_members", count=str(row.members))
    if row.uses:
        raise Refused("name", "group_in_use")
    session.delete(session.get(Group, group_id))
    record(session, actor, "group.delete", row.name, origin=origin)
    session.flush()


def create_cost_centre(session: Session, code: str, name: str, *, actor: str,
                       origin: str | None) -> CostCentre:
    code = _check_name("code", code, 64)
    name = _check_name("name", name, 200)
    if session.scalar(select(CostCentre.id).where(CostCentre.code == code)) is not None:
        raise Refused("code", "name_taken")
    centre = CostCentre(code=code, name=name)
    session.add(centre)
    session.flush()
    record(session, actor, "cost_centre.create", code, {"name": name}, origin=origin)
    return centre


def rename_cost_centre(session: Session, centre_id: int, name: str, *, actor: str,
                       origin: str | None) -> CostCentre:
    """The name changes, never the code: imports and billing codes refer to the code."""
    centre = session.get(CostCentre, centre_id)
    if centre is None:
        raise Refused("name", "cost_centre_unknown")
    name = _check_name("name", name, 200)
    if name != centre.name:
        record(session, actor, "cost_centre.rename", centre.code,
               {"from": centre.name, "to": name}, origin=origin)
        centre.name = name
        session.flush()
    return centre


def delete_cost_centre(session: Session, centre_id: int, *, actor: str,
                       origin: str | None) -> None:
    row = next((found for found in cost_centres(session) if found.id == centre_id), None)
    if row is None:
        raise Refused("name", "cost_centre_unknown")
    if row.members:
        raise Refused("name", "cost_centre_has_members", count=str(row.members))
    if row.uses:
        raise Refused("name", "cost_centre_in_use")
    session.delete(session.get(CostCentre, centre_id))
    record(session, actor, "cost_centre.delete", row.code, origin=origin)
    session.flush()


def balance_of(session: Session, user: User, currency: str) -> Balance:
    """The user's balances, read without creating the accounts a new user lacks (a page
    view must not write)."""
    kinds = {account_key(kind, currency, user.id): kind
             for kind in (AccountKind.USER_VIRTUAL, AccountKind.USER_PERSONAL)}
    found = {kinds[str(key)]: amount for key, amount in session.execute(
        select(Account.key, Account.balance).where(Account.key.in_(list(kinds))))}
    return Balance(currency=currency,
                   virtual_credit=found.get(AccountKind.USER_VIRTUAL, Decimal("0.00")),
                   personal_credit=found.get(AccountKind.USER_PERSONAL, Decimal("0.00")),
                   held=held_amount(session, user.id), overdraft_limit=user.overdraft_limit)


def recent_adjustments(session: Session, user: User, limit: int = 10) -> list[
        tuple[LedgerTransaction, Decimal]]:
    """The user's last adjustments with the amount that reached the user's account."""
    found = list(session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.user_id == user.id,
                                        LedgerTransaction.kind == "adjustment")
        .order_by(LedgerTransaction.id.desc()).limit(limit)))
    mine = set(session.scalars(select(Account.id).where(Account.user_id == user.id)))
    return [(transaction, sum((entry.amount for entry in transaction.entries
                               if entry.account_id in mine), Decimal("0.00")))
            for transaction in found]
