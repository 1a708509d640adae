"""Demo accounts for the web pages: a clerk, an administrator and an auditor, and a web
password for each demo user's own page. Public on purpose, like the demo terminal token.

Separate from ``backend.demo.seed_demo`` because a password costs a scrypt: the demo
backend (``--demo-data``) and the web tests seed these, the many API tests do not.
Idempotent: an account that exists keeps its roles, and a password is set only where none
is (one changed during a demo survives a restart).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from backend import roles
from backend.audit import record
from backend.db import Database
from backend.demo import DEMO_USERS
from backend.models import User
from backend.web.passwords import hash_password


@dataclass(frozen=True)
class DemoStaff:
    username: str
    display_name: str
    role: str
    password: str


DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("clerk", "Chloé Clerk", "cashier", "clerk-demo-pass"),
    DemoStaff("admin", "Adam Admin", "administrator", "admin-demo-pass"),
    DemoStaff("audrey", "Audrey Auditor", "auditor", "audit-demo-pass"),
)


def demo_user_password(username: str) -> str:
    """The web password of a demo user's own page: ``alice`` -> ``alice-demo-pass``."""
    return f"{username}-demo-pass"


def seed_demo_web(db: Database, secret: bytes) -> None:
    wanted = {user.username: demo_user_password(user.username) for user in DEMO_USERS}
    wanted |= {staff.username: staff.password for staff in DEMO_STAFF}
    with db.read() as session:
        have = set(session.scalars(select(User.username).where(
            User.username.in_(list(wanted)), User.password_hash.is_not(None))))
    # scrypt outside the write transaction (on SQLite it holds the one write lock)
    digests = {name: hash_password(secret, word) for name, word in wanted.items()
               if name not in have}
    with db.write() as session:
        for staff in DEMO_STAFF:
            if session.scalar(select(User.id).where(User.username == staff.username)) is None:
                session.add(User(username=staff.username, display_name=staff.display_name,
                                 language="en", email=f"{staff.username}@example.org"))
                session.flush()
                record(session, "demo", "user.create", staff.username, {"for": "staff"})
            roles.grant(session, staff.username, staff.role, actor="demo")
        for user in session.scalars(select(User).where(User.username.in_(list(digests)),
                                                       User.password_hash.is_(None))):
            user.password_hash = digests[user.username]
