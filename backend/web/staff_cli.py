"""What ``printkiosk backend staff add|passwd|disable|list`` does: the first staff
accounts, before anyone can sign in to the pages to make more.

A staff account is a user account with a staff role (``cashier``, ``administrator``,
``auditor``) and a web password. ``add`` creates the user when it does not exist (no card,
no credit: a clerk need not print) or gives an existing one the role; ``passwd`` sets the
web password of any user (staff, or a user's own page); ``disable`` takes every staff
role away and ends the account's staff sessions (the user may still print). Each change is
audited as ``cli:<login>``; bad input is one line on stderr, exit 2, nothing changed.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Sequence

from sqlalchemy import select

from backend import roles
from backend.audit import record
from backend.cli_output import table
from backend.ledger import LedgerError
from backend.models import STAFF_ROLES, User, UserRole
from backend.text import control_character_error
from backend.voucher_cli import Backend, CliRefused
from backend.web.passwords import hash_password, password_problem
from backend.web.sessions import end_user_sessions

USAGE = ("give `staff add USERNAME ROLE [--name NAME]`, `staff passwd USERNAME`, "
         f"`staff disable USERNAME` or `staff list` (roles: {', '.join(STAFF_ROLES)}); "
         "the password is read from standard input")


def read_password(prompt: Callable[[str], str] = getpass.getpass) -> str:
    """Twice at a terminal, else the first line of standard input (a script, a pipe)."""
    if sys.stdin.isatty():
        first = prompt("New password: ")
        if prompt("Again: ") != first:
            raise CliRefused("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def staff_command(backend: Backend, words: Sequence[str], name: str | None,
                  password: Callable[[], str] = read_password) -> None:
    verb, *rest = words or ("",)
    if verb == "add" and len(rest) == 2:
        _add(backend, rest[0], rest[1], name, password)
    elif verb == "passwd" and len(rest) == 1:
        _passwd(backend, rest[0], password)
    elif verb == "disable" and len(rest) == 1:
        _disable(backend, rest[0])
    elif verb == "list" and not rest:
        _list(backend)
    else:
        raise CliRefused(f"{' '.join(words)!r}: {USAGE}" if words else USAGE)


def _checked_password(password: Callable[[], str]) -> str:
    given = password()
    problem = password_problem(given)
    if problem is not None:
        raise CliRefused(f"password refused: {problem}")
    return given


def _add(backend: Backend, username: str, role: str, name: str | None,
         password: Callable[[], str]) -> None:
    if role not in STAFF_ROLES:
        raise CliRefused(f"role {role!r} is not a staff role ({', '.join(STAFF_ROLES)})")
    problem = control_character_error(username) or control_character_error(name or "")
    if problem or not username.strip() or len(username) > 100:
        raise CliRefused(f"username {username!r}: {problem or 'give 1 to 100 characters'}")
    digest = hash_password(backend.secret, _checked_password(password))
    with backend.db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        created = user is None
        if user is None:
            user = User(username=username, display_name=name or username, language="en")
            session.add(user)
            session.flush()
            record(session, backend.actor, "user.create", username, {"for": "staff"})
        user.password_hash = digest
        record(session, backend.actor, "user.password_set", username)
        roles.grant(session, username, role, backend.actor)
    print(f"{'created' if created else 'updated'} {username}: role {role}, password set "
          f"(audited as {backend.actor}); sign in at /login")


def _passwd(backend: Backend, username: str, password: Callable[[], str]) -> None:
    digest = hash_password(backend.secret, _checked_password(password))
    with backend.db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise CliRefused(f"no user {username!r}")
        user.password_hash = digest
        ended = end_user_sessions(session, user.id)
        record(session, backend.actor, "user.password_set", username,
               {"sessions_ended": ended})
    print(f"password of {username} set; {ended} open web session(s) ended")


def _disable(backend: Backend, username: str) -> None:
    try:
        with backend.db.write() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise CliRefused(f"no user {username!r}")
            held = [role for role in user.roles if role in STAFF_ROLES]
            if not held:
                raise CliRefused(f"{username} has no staff role")
            for role in held:
                roles.revoke(session, username, role, backend.actor)
            ended = end_user_sessions(session, user.id, area="staff")
    except LedgerError as exc:
        raise CliRefused(exc.detail) from exc
    print(f"{username}: staff role(s) {', '.join(held)} removed, {ended} staff session(s) "
          "ended (the account may still print)")


def _list(backend: Backend) -> None:
    with backend.db.read() as session:
        rows = session.execute(
            select(User.username, User.display_name, UserRole.role, User.password_hash)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_(STAFF_ROLES)).order_by(User.username, UserRole.role))
        shown = [(str(u), str(n), str(r), "yes" if p else "no") for u, n, r, p in rows]
    if not shown:
        print("No staff account yet: `printkiosk backend staff add --config FILE "
              "USERNAME administrator` (the password is read from standard input).")
        return
    print(table(("USER", "NAME", "ROLE", "PASSWORD"), shown))
