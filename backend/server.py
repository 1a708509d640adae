"""Process entry for ``printkiosk backend``: migrate, optionally seed, then serve or act."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn

from backend.app import create_app, prepare_database
from backend.config import BackendConfig, BackendConfigError
from backend.db import Database, DatabaseRefused, is_sqlite, verify_database
from backend.notify.hook import install_rules

# How often the serving loop calls the heartbeat (the caller's watchdog decides when a
# ping is due); a loop blocked longer than systemd's WatchdogSec gets the service restarted.
HEARTBEAT_TICK_S = 0.5


@dataclass(frozen=True)
class Adjustment:
    """A manual correction asked on the command line (``printkiosk backend adjust``)."""

    username: str | None
    account: str | None
    amount: str | None
    reason: str | None
    actor: str


def main(config: BackendConfig, *, action: str = "serve", host: str | None = None,
         port: int | None = None, demo_data: bool = False, demo_history: bool = False,
         migrate_only: bool = False,
         import_file: Path | None = None, dry_run: bool = False,
         deactivate_missing: bool = False, terminal_id: str | None = None,
         adjustment: Adjustment | None = None, older_than_h: float | None = None,
         heartbeat: Callable[[], None] | None = None,
         stopping: Callable[[], None] | None = None) -> int:
    """Run one action. Serving, ``heartbeat`` is called once the socket listens, then
    from the server's own asyncio loop; ``stopping`` once when the shutdown begins
    (systemd's READY=1 / WATCHDOG=1 / STOPPING=1, see printkiosk.systemd_notify)."""
    # Whatever this process creates (the SQLite file and its -wal/-shm, the key file) is
    # for the backend's own user only; the systemd unit sets UMask=0077 as well.
    os.umask(0o077)
    key_file = config.secret_key_path()
    # --demo-data seeds a new database on purpose (printkiosk demo --reset empties its
    # own folder, the key stays in the backend's): an empty one is no sign of lost data.
    earlier_key = (key_file if key_file is not None and key_file.exists() and not demo_data
                   else None)
    try:
        secret = config.secret_key()
    except BackendConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    db = Database.from_url(config.database_url, config.database.pool_size)
    try:
        try:
            verify_database(db, earlier_key)
        except DatabaseRefused as exc:
            print(exc, file=sys.stderr)
            return 2
        prepare_database(db, config.ledger.currency)
        if demo_data:
            from backend.demo import seed_demo, seed_demo_print3d
            from backend.demo_reports import seed_demo_reports
            from backend.demo_web import seed_demo_web

            seed_demo(db, secret, config.ledger.currency)
            seed_demo_web(db, secret)
            seed_demo_print3d(db, config)
            if demo_history:  # the demo's usage reports; tests count the holds they make
                seed_demo_reports(db, config.ledger.currency)
        # The user rules see the CLI's movements too (adjust, refill, expire-holds...),
        # but not the demo's seed: its opening balances are no movement to warn about.
        install_rules(db, config)
        if migrate_only:
            print(f"database at the latest schema: {db.engine.url.render_as_string()}")
            return 0
        if action == "enrolment-key":
            return _enrolment_key(db, secret)
        if action == "expire-holds":
            return _expire_holds(db, older_than_h if older_than_h is not None
                                 else config.holds.expire_after_h)
        if action == "check":
            return _check_ledger(db)  # the database's own check ran above
        if action == "adjust":
            return _adjust(db, config.ledger.currency, adjustment)
        if action == "terminals":
            return _list_terminals(db)
        if action == "revoke":
            return _revoke(db, terminal_id, config.ledger.currency)
        if action == "set-pin":
            return _set_pin(db, secret, adjustment.username if adjustment else None,
                            adjustment.actor if adjustment else "cli")
        if action == "import-users":
            return _import_users(db, secret, import_file, dry_run=dry_run)
        if action == "import-billing-codes":
            return _import_billing_codes(db, import_file, dry_run=dry_run,
                                         deactivate_missing=deactivate_missing)
        if action == "refill":
            return _refill(db, config.ledger.currency)
        try:
            app = create_app(config, db, secret, migrate=False, schedule=True)
        except BackendConfigError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return 2
        server = _Server(uvicorn.Config(
            app, host=host or config.server.host, port=port or config.server.port,
            log_level="info"), stopping or _nothing)
        asyncio.run(_serve(server, heartbeat or _nothing))
        return 0 if server.started else 3  # 3: uvicorn's own "startup failed" status
    except KeyboardInterrupt:
        return 0
    finally:
        db.dispose()
        sys.stdout.flush()


def _nothing() -> None:
    """No supervisor to tell."""


class _Server(uvicorn.Server):
    """uvicorn's server, saying ``stopping`` when a signal starts the shutdown (uvicorn
    re-raises that signal once it has shut down, so after ``serve`` is too late)."""

    def __init__(self, config: uvicorn.Config, stopping: Callable[[], None]) -> None:
        super().__init__(config)
        self._stopping = stopping
        self._told_stopping = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self._told_stopping:
            self._told_stopping = True
            self._stopping()
        super().handle_exit(sig, frame)


async def _serve(server: uvicorn.Server, heartbeat: Callable[[], None]) -> None:
    """Serve, beating from a task on the same loop as the requests: a loop stuck in a
    blocking call stops the beats as it stops the answers."""

    async def pulse() -> None:
        while not server.started:
            await asyncio.sleep(0.05)
        while not server.should_exit:
            heartbeat()
            await asyncio.sleep(HEARTBEAT_TICK_S)

    beating = asyncio.create_task(pulse())
    try:
        await server.serve()
    finally:
        beating.cancel()


def _import_billing_codes(db: Database, path: Path | None, *, dry_run: bool,
                          deactivate_missing: bool) -> int:
    from backend.billing_codes import import_csv

    if path is None:
        print("import-billing-codes needs --file CSV", file=sys.stderr)
        return 2
    data = _read_import_file(path)
    if data is None:
        return 2
    report = import_csv(db, data, actor="cli", dry_run=dry_run,
                        deactivate_missing=deactivate_missing)
    for error in report.errors:
        print(f"{path.name}: {error}", file=sys.stderr)
    if report.errors:
        print("nothing imported", file=sys.stderr)
        return 2
    verb = "would be" if dry_run else "were"
    print(f"{len(report.created)} created, {len(report.updated)} updated, "
          f"{len(report.deactivated)} deactivated codes {verb} imported")
    return 0


def _read_import_file(path: Path) -> bytes | None:
    """The CSV's bytes (decoded and checked by the import), or None after saying why."""
    from backend.csv_input import CsvFileRefused, read_limited

    try:
        return read_limited(str(path))
    except (OSError, CsvFileRefused) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        print(f"{path}: cannot be imported: {reason}", file=sys.stderr)
        print("nothing imported", file=sys.stderr)
        return None


def _list_terminals(db: Database) -> int:
    from sqlalchemy import select

    from backend.cli_output import local_time, table
    from backend.models import Terminal
    from backend.terminals import effective_state

    with db.read() as session:
        terminals = list(session.scalars(select(Terminal).order_by(Terminal.created_at)))
        rows = [(terminal.id, effective_state(terminal), local_time(terminal.last_seen_at),
                 local_time(terminal.created_at), terminal.device or "", terminal.name)
                for terminal in terminals]
    if not rows:
        print("No terminal is enrolled yet: create a key with "
              "`printkiosk backend enrolment-key`.")
        return 0
    print(table(("ID", "STATE", "LAST SEEN", "ENROLLED", "PRINTER", "NAME"), rows))
    states = [row[1] for row in rows]
    summary = ", ".join(f"{states.count(state)} {state}" for state in sorted(set(states)))
    print(f"{len(rows)} terminal{'s' if len(rows) != 1 else ''}: {summary}")
    return 0


def _enrolment_key(db: Database, secret: bytes) -> int:
    from backend.cli_output import local_time, table
    from backend.models import utcnow
    from backend.terminals import create_enrolment_key

    with db.write() as session:
        key = create_enrolment_key(session, secret, actor="cli")
    print("Created a one-time terminal enrolment key (shown only now; it is stored hashed):")
    print(table(("KEY", "CREATED", "VALID FOR"), [(key, local_time(utcnow()),
                                                   "one enrolment")]))
    print("Enter it in the kiosk's technician settings (or the spool agent's "
          "configuration); it is spent by the first terminal that enrols with it.")
    return 0


def _refill(db: Database, currency: str) -> int:
    from decimal import Decimal

    from backend.cli_output import table
    from backend.money import fmt
    from backend.refill import refill_due

    with db.write() as session:
        refilled = refill_due(session, currency)
    if not refilled:
        print("Nothing refilled: every quota period due is already refilled, every user is "
              "at the carry-over cap, or no quota rule exists.")
        return 0
    print(table(("USER", "GROUP", "PERIOD", f"ADDED ({currency})",
                 f"VIRTUAL CREDIT NOW ({currency})"),
                [(r.username, r.group, r.period, fmt(r.amount), fmt(r.virtual_credit))
                 for r in refilled]))
    total = sum((r.amount for r in refilled), start=Decimal("0.00"))
    print(f"Refilled {len(refilled)} user{'s' if len(refilled) != 1 else ''}: "
          f"{fmt(total)} {currency} of virtual credit added.")
    return 0


def _revoke(db: Database, terminal_id: str | None, currency: str) -> int:
    from backend.ledger import LedgerError
    from backend.money import fmt
    from backend.terminals import revoke

    if not terminal_id:
        print("revoke needs --terminal ID", file=sys.stderr)
        return 2
    try:
        with db.write() as session:
            done = revoke(session, terminal_id, actor="cli")
            name = done.terminal.name
    except LedgerError as exc:
        print(exc.detail, file=sys.stderr)
        return 2
    holds = "hold" if done.voided_holds == 1 else "holds"
    sessions = "session" if done.ended_sessions == 1 else "sessions"
    print(f"revoked {name}; voided {done.voided_holds} open {holds} "
          f"({currency} {fmt(done.voided_amount)}); ended {done.ended_sessions} user "
          f"{sessions}")
    return 0


def _check_ledger(db: Database) -> int:
    from sqlalchemy.exc import DBAPIError

    from backend.ledger import check_invariants

    try:
        with db.read() as session:
            report = check_invariants(session)
    except (DBAPIError, ArithmeticError, ValueError) as exc:
        # A ledger written before the balance bound (money.MAX_BALANCE) may hold sums that
        # overflow (SQLite: "integer overflow") or a balance turned float: say so, no trace.
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(f"ledger NOT OK: the ledger cannot be summed ({reason}); an account holds "
              "more than any balance allowed (see printkiosk backend adjust)",
              file=sys.stderr)
        return 1
    for transaction_id in report.unbalanced_transactions:
        print(f"transaction {transaction_id}: entries do not sum to zero", file=sys.stderr)
    for mismatch in report.cache_mismatches:
        print(f"account {mismatch}", file=sys.stderr)
    for misdirected in report.misdirected_charges:
        print(misdirected, file=sys.stderr)
    for mismatch in [*report.voucher_liability_mismatches, *report.top_up_mismatches]:
        print(mismatch, file=sys.stderr)
    if not report.ok:
        return 1
    if is_sqlite(db.engine):
        print("database file OK: PRAGMA quick_check found no damage")
    print("ledger OK: every transaction balanced, every cached balance equals its entries, "
          "every charge debits its payer, the voucher liability is what is still redeemable, "
          "payment clearing and fees match the top-ups")
    return 0


def _adjust(db: Database, currency: str, adjustment: Adjustment | None) -> int:
    from sqlalchemy import select

    from backend.ledger import LedgerError, adjust, balance
    from backend.models import AccountKind, User
    from backend.money import parse_signed_amount

    kinds = {"virtual": AccountKind.USER_VIRTUAL, "personal": AccountKind.USER_PERSONAL}
    if (adjustment is None or not adjustment.username or adjustment.account not in kinds
            or not adjustment.amount or not adjustment.reason):
        print("adjust needs --user NAME --account virtual|personal --amount [-]N.NN "
              "--reason TEXT", file=sys.stderr)
        return 2
    try:
        amount = parse_signed_amount(adjustment.amount)
    except ValueError as exc:
        print(f"amount_invalid: --amount {exc}", file=sys.stderr)
        return 2
    try:
        with db.write() as session:
            user = session.scalar(select(User).where(User.username == adjustment.username))
            if user is None:
                raise LedgerError("user_unknown", f"no user {adjustment.username!r}")
            adjust(session, user, currency, account_kind=kinds[adjustment.account],
                   amount=amount, reason=adjustment.reason, actor=adjustment.actor)
            after = balance(session, user, currency).as_json()
    except LedgerError as exc:
        print(f"{exc.code}: {exc.detail}", file=sys.stderr)
        return 2
    print(f"{adjustment.username}: virtual {after['virtual_credit']}, "
          f"personal {after['personal_credit']} {currency}")
    return 0


def _expire_holds(db: Database, older_than_h: float) -> int:
    from datetime import timedelta

    from backend.holds_expiry import expire_stale_holds

    expired = expire_stale_holds(db, timedelta(hours=older_than_h), actor="cli")
    print(f"{len(expired)} open holds older than {older_than_h:g} h voided")
    return 0


def _import_users(db: Database, secret: bytes, path: Path | None, *, dry_run: bool) -> int:
    from backend.users_import import import_users_csv

    if path is None:
        print("import-users needs --file CSV", file=sys.stderr)
        return 2
    data = _read_import_file(path)
    if data is None:
        return 2
    report = import_users_csv(db, data, secret, actor="cli", dry_run=dry_run)
    for error in report.errors:
        print(f"{path.name}: {error}", file=sys.stderr)
    if report.errors:
        print("nothing imported", file=sys.stderr)
        return 2
    verb = "would be" if dry_run else "were"
    print(f"{len(report.created)} created, {len(report.updated)} updated users {verb} imported")
    return 0


def _set_pin(db: Database, secret: bytes, username: str | None, actor: str) -> int:
    """Read the PIN from the terminal (not echoed) or one line of stdin, never argv:
    the command line is visible to every user of the machine in ``ps``."""
    import getpass

    from sqlalchemy import delete, select

    from backend.audit import record
    from backend.models import PinAttempt, User
    from backend.security import hash_pin

    if not username:
        print("set-pin needs --user NAME (the PIN is read from stdin)", file=sys.stderr)
        return 2
    pin = getpass.getpass("PIN: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        print("the PIN must be 4 to 8 digits", file=sys.stderr)
        return 2
    pin_hash = hash_pin(secret, pin)  # scrypt: before the write lock, not inside it
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            print(f"no user {username!r}", file=sys.stderr)
            return 2
        user.pin_hash = pin_hash
        session.execute(delete(PinAttempt).where(PinAttempt.username == username))
        record(session, actor, "user.set_pin", username)
    print(f"PIN of {username} set")
    return 0
