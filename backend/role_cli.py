"""What ``printkiosk backend role grant|revoke|list`` does on the backend's database.

Each change is one write transaction audited with the operator as actor (``cli:<login>``,
``backend.roles``); bad input (an unknown user or role, a missing word) is one line on
stderr, exit status 2, and nothing changed (``backend.voucher_cli.CliRefused``).
"""

from __future__ import annotations

from collections.abc import Sequence

from backend import roles
from backend.cli_output import table
from backend.ledger import LedgerError
from backend.models import ROLES
from backend.voucher_cli import Backend, CliRefused

USAGE = ("give `role grant USERNAME ROLE`, `role revoke USERNAME ROLE` or `role list` "
         f"(roles: {', '.join(ROLES)})")


def role_command(backend: Backend, words: Sequence[str]) -> None:
    verb, *rest = words or ("",)
    if verb == "list" and not rest:
        _list(backend)
    elif verb in ("grant", "revoke") and len(rest) == 2:
        _change(backend, verb, rest[0], rest[1])
    else:
        raise CliRefused(f"{' '.join(words)!r}: {USAGE}" if words else USAGE)


def _change(backend: Backend, verb: str, username: str, role: str) -> None:
    change = roles.grant if verb == "grant" else roles.revoke
    try:
        with backend.db.write() as session:
            done = change(session, username, role, backend.actor)
    except LedgerError as exc:
        raise CliRefused(exc.detail) from exc
    if not done.changed:
        state = "already has" if verb == "grant" else "does not have"
        print(f"{username} {state} the role {role}: nothing to do")
    elif verb == "grant":
        print(f"granted {role} to {username} (audited as {backend.actor})")
    else:
        print(f"revoked {role} from {username} (audited as {backend.actor})")


def _list(backend: Backend) -> None:
    with backend.db.read() as session:
        rows = roles.holders(session)
    if not rows:
        print("No user has a role yet: grant one with "
              "`printkiosk backend role grant --config FILE USERNAME ROLE`.")
        return
    print(table(("USER", "NAME", "ROLE"), rows))
    print(f"{len(rows)} role grant{'s' if len(rows) != 1 else ''}")
