"""What ``printkiosk vouchers ACTION`` does on the backend's database.

Each action opens the database as the server does (``--config``: checked, migrated),
changes it in one write transaction, audits it with the operator as actor
(``cli:<user>``) and prints what happened and what to do next. Bad input (an amount, a
date, a prefix, a count, a token) is one line on stderr, exit status 2, and nothing
changed. The ESC/POS printing of cards lives in ``printkiosk.commands.vouchers`` (the
backend never imports drivers).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

from sqlalchemy import select

from backend import voucher_admin, voucher_export, vouchers
from backend.app import prepare_database
from backend.cli_output import local_time, table
from backend.config import BackendConfig, BackendConfigError
from backend.db import Database, DatabaseRefused, verify_database
from backend.ledger import LedgerError
from backend.models import User, VoucherBatch, utcnow
from backend.money import fmt, parse_amount
from backend.notify.hook import install_rules
from backend.voucher_limits import recent_lockouts


class CliRefused(Exception):
    """One line for the operator; nothing was changed."""


@dataclass(frozen=True)
class Backend:
    config: BackendConfig
    db: Database
    secret: bytes
    actor: str

    @property
    def timezone(self) -> str | None:
        return self.config.vouchers.timezone


@contextmanager
def open_backend(config: BackendConfig, actor: str) -> Iterator[Backend]:
    """The database as ``printkiosk backend`` opens it: refused when damaged or emptied."""
    os.umask(0o077)
    key_file = config.secret_key_path()
    earlier_key = key_file if key_file is not None and key_file.exists() else None
    try:
        secret = config.secret_key()
    except BackendConfigError as exc:
        raise CliRefused("; ".join(exc.problems)) from exc
    db = Database.from_url(config.database_url, config.database.pool_size)
    install_rules(db, config)
    try:
        try:
            verify_database(db, earlier_key)
        except DatabaseRefused as exc:
            raise CliRefused(str(exc)) from exc
        prepare_database(db, config.ledger.currency)
        yield Backend(config, db, secret, actor)
    finally:
        db.dispose()


def parse_count(text: str, flag: str = "--count") -> int:
    if not re.fullmatch(r"[0-9]{1,7}", text.strip()):
        raise CliRefused(f"{flag} {text!r}: not a whole number such as 500")
    return int(text)


def parse_day(text: str, flag: str = "--expires") -> date:
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            pass
    raise CliRefused(f"{flag} {text!r}: not a date written YYYY-MM-DD, such as 2027-06-30")


def parse_value(text: str) -> Decimal:
    try:
        return parse_amount(text.strip(), allow_zero=False)
    except ValueError as exc:
        raise CliRefused(f"--value {exc}") from exc


def _refusal(exc: LedgerError) -> CliRefused:
    return CliRefused(exc.detail)


def create(backend: Backend, *, value: str, count: str, expires: str, prefix: str,
           currency: str | None, note: str, output: Path | None) -> None:
    amount, number, day = parse_value(value), parse_count(count), parse_day(expires)
    if output is not None and (output.exists() or output.is_symlink()):
        raise CliRefused(f"{output}: already exists; refusing to overwrite it "
                         "(choose another --output)")
    currency = (currency or backend.config.ledger.currency).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise CliRefused(f"--currency {currency!r}: not a three-letter code such as EUR")
    try:
        with backend.db.write() as session:
            created = vouchers.create_batch(
                session, backend.secret, value=amount, currency=currency, count=number,
                expires_on=day, prefix=prefix, note=note, actor=backend.actor,
                timezone=backend.timezone)
            if output is not None:  # inside the transaction: no file, no batch
                voucher_export.write_csv(output, vouchers.export_rows(created.batch,
                                                                      created.codes))
    except LedgerError as exc:
        raise _refusal(exc) from exc
    except voucher_export.ExportFileRefused as exc:
        raise CliRefused(str(exc)) from exc
    batch = created.batch
    print(f"Created batch {batch.public_id}: {number} vouchers of {fmt(amount)} {currency}, "
          f"valid through {day.isoformat()} (in stock, not sold yet).")
    if output is not None:
        print(f"Codes written to {output} (mode 0600). Print the cards from it, then "
              "delete it or keep it encrypted; never mail it.")
    else:
        print("No --output: the codes exist only encrypted in the database; write them "
              "once with the export command below.")
    print(f"One-time export token (shown only now): {created.export_token}")
    print("  With it, the codes can be exported once more: "
          f"printkiosk vouchers export {batch.public_id} --token TOKEN --output FILE.csv")
    print("Next: printkiosk vouchers cards "
          f"{batch.public_id} --codes {output or 'FILE.csv'} --output cards.pdf, then "
          f"printkiosk vouchers sell {batch.public_id} --count N when they are sold.")


def export(backend: Backend, public_id: str, token: str | None, output: Path | None) -> None:
    if not token or output is None:
        raise CliRefused("export needs --token TOKEN (from create) and --output FILE.csv")
    if output.exists() or output.is_symlink():
        raise CliRefused(f"{output}: already exists; refusing to overwrite it")
    try:
        with backend.db.write() as session:
            batch, codes = vouchers.export_codes(session, backend.secret, public_id, token,
                                                 backend.actor)
            voucher_export.write_csv(output, vouchers.export_rows(batch, codes))
    except LedgerError as exc:
        raise _refusal(exc) from exc
    except voucher_export.ExportFileRefused as exc:
        raise CliRefused(str(exc)) from exc
    print(f"{len(codes)} codes of batch {batch.public_id} written to {output} (mode 0600). "
          "The token is now spent: the database keeps no plain code.")


def _state(batch: VoucherBatch, day: date) -> str:
    if batch.revoked_at is not None:
        return "revoked"
    return "expired" if batch.expires_on < day else "valid"


def list_batches(backend: Backend) -> None:
    day = vouchers.today(backend.timezone)
    with backend.db.read() as session:
        rows = [(s.batch.public_id, fmt(s.batch.value), s.batch.currency, str(s.issued),
                 str(s.sold), str(s.redeemed), s.batch.expires_on.isoformat(),
                 _state(s.batch, day), s.batch.created_by, s.batch.note)
                for s in voucher_admin.stats(session, backend.timezone)]
    if not rows:
        print("No voucher batch yet: printkiosk vouchers create --value 5.00 --count 500 "
              "--expires YYYY-MM-DD --prefix LIB")
        return
    print(table(("BATCH", "VALUE", "CUR", "COUNT", "SOLD", "REDEEMED", "EXPIRES", "STATE",
                 "CREATED BY", "NOTE"), rows))


def show(backend: Backend, public_id: str) -> None:
    try:
        with backend.db.read() as session:
            [row] = voucher_admin.stats(session, backend.timezone, public_id)
    except LedgerError as exc:
        raise _refusal(exc) from exc
    batch = row.batch
    day = vouchers.today(backend.timezone)
    print(table(("FIELD", "VALUE"), [
        ("batch", batch.public_id), ("prefix", batch.prefix or "(none)"),
        ("value", f"{fmt(batch.value)} {batch.currency}"),
        ("expires", f"{batch.expires_on.isoformat()} (last day)"),
        ("state", _state(batch, day)), ("note", batch.note),
        ("created", f"{local_time(batch.created_at)} by {batch.created_by}"),
        ("revoked", local_time(batch.revoked_at, "no") + (
            f" by {batch.revoked_by}" if batch.revoked_by else "")),
        ("export token", "unused" if batch.export_blob is not None else "spent (or none)"),
        ("issued", str(row.issued)), ("sold", str(row.sold)),
        ("in stock", str(row.in_stock)),
        ("redeemed", str(row.redeemed)), ("revoked", str(row.revoked)),
        ("expired", str(row.expired)),
        ("liability", f"{fmt(row.liability)} {batch.currency}"),
    ]))


def sell(backend: Backend, public_id: str, count: str | None,
         payment: Literal["cash", "invoice"], buyer: str) -> None:
    if count is None:
        raise CliRefused("sell needs --count N")
    number = parse_count(count)
    try:
        with backend.db.write() as session:
            sale = vouchers.sell(session, public_id, number, payment, buyer, backend.actor,
                                 backend.timezone)
    except LedgerError as exc:
        raise _refusal(exc) from exc
    total = sale.batch.value * sale.count
    source = "cash drawer" if payment == "cash" else "voucher receivable (invoice)"
    print(f"Sold {sale.count} vouchers of {sale.batch.public_id} (serials "
          f"{sale.first_serial}-{sale.last_serial}): {fmt(total)} {sale.batch.currency} "
          f"from the {source} to voucher liability (transaction {sale.transaction.id}).")


def revoke(backend: Backend, public_id: str, *, serials: str | None,
           sold_vouchers: Literal["refund", "forfeit"] | None, reason: str | None) -> None:
    if not reason or not reason.strip():
        raise CliRefused("revoke needs --reason TEXT (kept in the audit log)")
    try:
        with backend.db.write() as session:
            batch = vouchers.find_batch(session, public_id)
            chosen = (voucher_admin.parse_serials(serials, batch.count)
                      if serials is not None else None)
            done = voucher_admin.revoke(session, public_id, serials=chosen,
                                        sold_vouchers=sold_vouchers, reason=reason,
                                        actor=backend.actor)
    except LedgerError as exc:
        raise _refusal(exc) from exc
    except ValueError as exc:
        raise CliRefused(str(exc)) from exc
    what = "the whole batch" if serials is None else f"serials {serials}"
    print(f"Revoked {what} of {done.batch.public_id}: {done.unsold} in stock, "
          f"{done.refunded} sold refunded, {done.forfeited} sold forfeited; "
          f"{fmt(done.amount)} {done.batch.currency} of liability released.")


def show_stats(backend: Backend) -> None:
    with backend.db.read() as session:
        rows = voucher_admin.stats(session, backend.timezone)
    if not rows:
        print("No voucher batch yet.")
        return
    print(table(("BATCH", "ISSUED", "SOLD", "REDEEMED", "REVOKED", "EXPIRED", "LIABILITY"),
                [(r.batch.public_id, str(r.issued), str(r.sold), str(r.redeemed),
                  str(r.revoked), str(r.expired), f"{fmt(r.liability)} {r.batch.currency}")
                 for r in rows]))
    for currency in sorted({r.batch.currency for r in rows}):
        mine = [r for r in rows if r.batch.currency == currency]
        liability = sum((r.liability for r in mine), Decimal("0.00"))
        print(f"Total {currency}: {sum(r.issued for r in mine)} issued, "
              f"{sum(r.sold for r in mine)} sold, {sum(r.redeemed for r in mine)} redeemed, "
              f"{sum(r.revoked for r in mine)} revoked, {sum(r.expired for r in mine)} "
              f"expired; liability {fmt(liability)} {currency}")


def expire(backend: Backend) -> None:
    done = voucher_admin.expire_vouchers(backend.db, backend.actor, backend.timezone)
    if not done:
        print("Nothing to expire: no sold, unredeemed voucher is past its expiry day.")
        return
    for breakage in done:
        print(f"{breakage.batch}: {breakage.count} expired vouchers, {fmt(breakage.amount)} "
              f"{breakage.currency} of liability to revenue (breakage)")


def lockouts(backend: Backend, hours: float) -> None:
    with backend.db.read() as session:
        found = recent_lockouts(session, utcnow() - timedelta(hours=hours))
        users = {user.id: user.username for user in session.scalars(
            select(User).where(User.id.in_({lockout.user_id for lockout in found})))}
    if not found:
        print(f"No voucher lockout in the last {hours:g} h.")
        return
    print(table(("STARTED", "UNTIL", "LOCKED", "TERMINAL", "USER", "FAILURES"),
                [(local_time(lockout.started_at), local_time(lockout.until), lockout.scope,
                  lockout.terminal_id or "(web page)", users.get(lockout.user_id, "?"),
                  str(lockout.failures)) for lockout in found]))


def card_codes(backend: Backend, public_id: str,
               codes_file: Path) -> tuple[VoucherBatch, list[tuple[int, str]]]:
    """The (serial, display code) pairs of the export file that belong to the batch (by
    their hash, whatever the file says) and are still redeemable; refused when none."""
    try:
        rows = voucher_export.read_csv(codes_file)
    except voucher_export.ExportFileRefused as exc:
        raise CliRefused(str(exc)) from exc
    try:
        with backend.db.read() as session:
            batch = vouchers.find_batch(session, public_id)
            usable = voucher_admin.redeemable_serials(session, backend.secret, batch,
                                                      [row.code for row in rows],
                                                      backend.timezone)
    except LedgerError as exc:
        raise _refusal(exc) from exc
    chosen = sorted((serial, code) for code, serial in usable.items())
    skipped = len(rows) - len(chosen)
    if not chosen:
        raise CliRefused(f"{codes_file}: no code of it is a redeemable voucher of batch "
                         f"{batch.public_id} (another batch's file, or all redeemed, "
                         "revoked or expired)")
    if skipped:
        print(f"{skipped} code(s) of {codes_file} skipped: not of batch {batch.public_id}, "
              "or no longer redeemable", file=sys.stderr)
    return batch, chosen
