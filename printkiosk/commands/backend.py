"""Run the accounting backend: the terminal HTTP API under /api/v1.

Reads a backend TOML file (--config, required: without one the backend would quietly
create an empty database somewhere; see config/backend.toml), migrates the database
schema, then serves. --demo-data seeds demo users, cards, billing codes and a demo
terminal first; --migrate-only migrates and exits. To try it out: `printkiosk demo`.

  printkiosk backend --config /etc/printkiosk/backend.toml
  printkiosk backend --config FILE --demo-data --port 8470
  printkiosk backend refill --config FILE      run the quota refill for the current period
  printkiosk backend enrolment-key --config FILE   print a new one-time terminal enrolment key
  printkiosk backend terminals --config FILE    list terminals: state, last seen
  printkiosk backend revoke --config FILE --terminal ID
  printkiosk backend adjust --config FILE --user bob --account personal --amount 2.00
      --reason "cash paid at the desk"
  printkiosk backend check --config FILE      verify every ledger invariant
  printkiosk backend expire-holds --config FILE --older-than-h 24
  printkiosk backend import-billing-codes --config FILE --file codes.csv [--dry-run]
  printkiosk backend import-users --config FILE --file users.csv [--dry-run]
  printkiosk backend set-pin --config FILE --user alice      (PIN read from stdin)
  printkiosk backend role grant --config FILE tess technician   (or revoke; audited)
  printkiosk backend role list --config FILE   who holds which role (technician, ...)
  printkiosk backend staff add --config FILE ada administrator --name "Ada Lovelace"
      (password from stdin; also: staff passwd USERNAME, staff disable USERNAME, staff list)
  printkiosk backend notify test --config FILE --to you@example.org   send a test mail now
  printkiosk backend notify outbox --config FILE   mails by status, the failed ones' errors
  printkiosk backend notify send --config FILE     run the outbox worker once
  printkiosk backend notify retry --config FILE ID   queue a failed mail again (audited)
  printkiosk backend fleet clients --config FILE   (also sites, devices; client-add CODE
      --name NAME --billing-day N, site-add CODE --client C --name N, place DEV --site S)
  printkiosk backend statements generate --config FILE 2026-11-01   client statements'
      drafts for that day's period (also: plan CLIENT FILE, list, issue NUMBER, cancel
      NUMBER, pdf NUMBER FILE, request NUMBER, overdue; docs/statements.md)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ACTIONS: dict[str, str] = {
    "serve": "run the HTTP API (default)",
    "refill": "refill the quotas due now",
    "enrolment-key": "print a new one-time terminal enrolment key",
    "terminals": "list terminals with their state and last contact",
    "revoke": "revoke --terminal ID",
    "import-billing-codes": "import billing codes from --file",
    "import-users": "import users from --file",
    "set-pin": "set the PIN of --user (read from stdin)",
    "adjust": "adjust a user's credit, with a reason",
    "check": "check the ledger invariants",
    "expire-holds": "void open holds older than --older-than-h",
    "role": "grant USERNAME ROLE, revoke USERNAME ROLE, or list the users' roles",
    "staff": "web staff accounts: add USERNAME ROLE, passwd USERNAME, disable USERNAME, list",
    "notify": "e-mail outbox: test --to ADDRESS, send, outbox, retry ID",
    "fleet": "clients, sites, devices: list, client-add, client-edit, site-add, place, "
             "device-edit (see backend/fleet/cli.py)",
    "statements": "client statements: plan CLIENT FILE, generate DAY [CLIENT], list, issue "
                  "NUMBER, cancel NUMBER, pdf NUMBER FILE, request NUMBER, overdue",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", nargs="?", default="serve", choices=tuple(ACTIONS), metavar="ACTION",
        help="; ".join(f"{name}: {summary}" for name, summary in ACTIONS.items()),
    )
    parser.add_argument("words", nargs="*", metavar="WORD",
                        help="role: grant|revoke USERNAME ROLE, or list; staff: add "
                             "USERNAME ROLE, passwd USERNAME, disable USERNAME, or list")
    parser.add_argument("--name", help="staff add: the display name of a new account")
    parser.add_argument("--to", help="notify test: the address to send the test mail to")
    parser.set_defaults(take_positionals=_take_positionals)
    parser.add_argument("--terminal", help="terminal id for revoke")
    parser.add_argument("--user", help="adjust, set-pin: the username")
    parser.add_argument("--account", choices=("virtual", "personal"), help="adjust: which credit")
    parser.add_argument("--amount", help="adjust: signed amount as text, e.g. -2.50")
    parser.add_argument("--older-than-h", type=float, default=None,
                        help="expire-holds: age in hours (default: holds.expire_after_h)")
    parser.add_argument("--reason", help="adjust: why (kept in the ledger and the audit log)")
    parser.add_argument("--file", type=Path, help="CSV for import-billing-codes / import-users")
    parser.add_argument("--dry-run", action="store_true",
                        help="import-*: check and report, change nothing")
    parser.add_argument("--deactivate-missing", action="store_true",
                        help="import-billing-codes: deactivate codes not in the file")
    parser.add_argument("--config", type=Path,
                        help="backend TOML file (required), e.g. config/backend.toml")
    parser.add_argument("--host", help="listen address (overrides server.host)")
    parser.add_argument("--port", type=int, help="listen port (overrides server.port)")
    parser.add_argument("--demo-data", action="store_true", help="seed the demo data first")
    parser.add_argument("--demo-history", action="store_true",
                        help="with --demo-data: also 60 past jobs for the usage reports")
    parser.add_argument("--migrate-only", action="store_true",
                        help="create or upgrade the database schema, then exit")
    parser.add_argument("--billing-day", help="fleet client-add/-edit: 1 to 28")
    parser.add_argument("--client", help="fleet site-add: the site's client code")
    parser.add_argument("--site", help="fleet place: the site code (\"\": none)")
    parser.add_argument("--model", help="fleet device-edit: the device's model")
    parser.add_argument("--serial", help="fleet device-edit: the device's serial number")


def _take_positionals(args: argparse.Namespace, extras: list[str]) -> bool:
    """``role grant --config FILE tess technician``: the words after the options are the
    role command's too (argparse alone stops at the first option)."""
    if args.action == "statements":  # statements plan --config FILE ACME plan.toml
        args.words.extend(extras)
        return True
    if args.action not in ("role", "staff", "notify", "fleet"):
        return False
    args.words.extend(extras)
    return True


NO_CONFIG = (
    "printkiosk backend: no --config FILE given. Refusing to start: without a configuration "
    "the backend would create a new, empty database under your data directory and serve "
    "or change that one, not your site's. Give the site's file, e.g. "
    "`printkiosk backend --config /etc/printkiosk/backend.toml` (example: "
    "config/backend.toml); to try printkiosk out, run `printkiosk demo`."
)


def run(args: argparse.Namespace) -> int:
    from printkiosk.commands.backend_file import load_or_report

    if args.config is None:
        print(NO_CONFIG, file=sys.stderr)
        return 2
    if args.action == "role":
        return _role(args)
    if args.action == "staff":
        return _staff(args)
    if args.action == "notify":
        return _notify(args)
    if args.action == "fleet":
        return _fleet(args)
    if args.action == "statements":
        return _statements(args)
    if args.words:
        print(f"printkiosk backend {args.action}: unexpected {' '.join(args.words)!r}",
              file=sys.stderr)
        return 2
    config = load_or_report(args.config)
    if config is None:
        return 2
    import getpass

    from backend.server import Adjustment, main
    from printkiosk.systemd_notify import Watchdog

    watchdog = Watchdog()
    adjustment = Adjustment(args.user, args.account, args.amount, args.reason,
                            actor=f"cli:{getpass.getuser()}")
    return main(config, action=args.action, host=args.host, port=args.port,
                demo_data=args.demo_data, demo_history=args.demo_history,
                migrate_only=args.migrate_only,
                import_file=args.file, dry_run=args.dry_run,
                deactivate_missing=args.deactivate_missing, terminal_id=args.terminal,
                adjustment=adjustment, older_than_h=args.older_than_h,
                # under systemd (Type=notify): READY=1 once listening, then the watchdog
                heartbeat=watchdog.beat, stopping=watchdog.stopping)


def _role(args: argparse.Namespace) -> int:
    from backend.role_cli import role_command
    from printkiosk.commands.backend_file import run_on_backend

    return run_on_backend("backend role", args.config,
                          lambda backend: role_command(backend, args.words))


def _staff(args: argparse.Namespace) -> int:
    from backend.web.staff_cli import staff_command
    from printkiosk.commands.backend_file import run_on_backend

    return run_on_backend("backend staff", args.config,
                          lambda backend: staff_command(backend, args.words, args.name))


def _notify(args: argparse.Namespace) -> int:
    from backend.notify.cli import notify_command
    from printkiosk.commands.backend_file import run_on_backend

    return run_on_backend("backend notify", args.config,
                          lambda backend: notify_command(backend, args.words, args.to))


def _fleet(args: argparse.Namespace) -> int:
    from backend.fleet.cli import FleetOptions, fleet_command
    from printkiosk.commands.backend_file import run_on_backend

    options = FleetOptions(name=args.name, billing_day=args.billing_day, client=args.client,
                           site=args.site, model=args.model, serial=args.serial)
    return run_on_backend("backend fleet", args.config,
                          lambda backend: fleet_command(backend, args.words, options))


def _statements(args: argparse.Namespace) -> int:
    from backend.statements.cli import statements_command
    from printkiosk.commands.backend_file import run_on_backend

    return run_on_backend("backend statements", args.config,
                          lambda backend: statements_command(backend, args.words))
