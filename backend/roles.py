"""Roles of user accounts: grant, revoke, list — each change audited.

A role is what an account may do beyond printing: ``technician`` opens technician mode
at a kiosk (a technician card or username + PIN identifies the account as any login
does; ``user_json`` carries the roles and the kiosk decides). Roles are rows of
``user_roles`` (``backend.models.UserRole``); the allowed names are ``models.ROLES``.
Granting a role the user has, or revoking one they do not have, changes nothing and
writes no audit row: running the same command twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import record
from backend.ledger import LedgerError
from backend.models import ROLES, User, UserRole


@dataclass(frozen=True)
class RoleChange:
    username: str
    role: str
    changed: bool  # False: it already was so


def check_role(role: str) -> str:
    if role not in ROLES:
        raise LedgerError("role_unknown", f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise LedgerError("user_unknown", f"no user {username!r}")
    return user


def grant(session: Session, username: str, role: str, actor: str,
          origin: str | None = None) -> RoleChange:
    check_role(role)
    user = _user(session, username)
    if session.get(UserRole, (user.id, role)) is not None:
        return RoleChange(username, role, changed=False)
    session.add(UserRole(user_id=user.id, role=role))
    record(session, actor, "user.role_grant", username, {"role": role}, origin=origin)
    session.flush()
    return RoleChange(username, role, changed=True)


def revoke(session: Session, username: str, role: str, actor: str,
           origin: str | None = None) -> RoleChange:
    check_role(role)
    user = _user(session, username)
    found = session.get(UserRole, (user.id, role))
    if found is None:
        return RoleChange(username, role, changed=False)
    session.delete(found)
    record(session, actor, "user.role_revoke", username, {"role": role}, origin=origin)
    session.flush()
    return RoleChange(username, role, changed=True)


def has_role(session: Session, username: str, role: str) -> bool:
    """Whether ``username`` exists and holds ``role`` (one query)."""
    return session.scalar(
        select(UserRole.user_id).join(User, User.id == UserRole.user_id)
        .where(User.username == username, UserRole.role == role)) is not None


def holders(session: Session) -> list[tuple[str, str, str]]:
    """(username, display name, role) of every grant, by username then role."""
    rows = session.execute(
        select(User.username, User.display_name, UserRole.role)
        .join(UserRole, UserRole.user_id == User.id)
        .order_by(User.username, UserRole.role))
    return [(str(username), str(name), str(role)) for username, name, role in rows]
