"""Issue 12 item 10: amount bounds everywhere, and no balance can overflow.

Before: ``adjust`` had no upper bound; two adjustments of 9e14 overflowed SQLite's 64-bit
integer into a float balance, and ``printkiosk backend check`` then crashed on the SUM.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from backend_fixtures import SECRET, Backend
from sqlalchemy import select

from backend.ledger import LedgerError, adjust, balance
from backend.models import AccountKind, User
from backend.money import MAX_BALANCE, parse_amount, parse_typed_amount
from backend.users_import import import_users_csv


def _bob(session: object) -> User:
    user = session.scalar(select(User).where(User.username == "bob"))  # type: ignore[attr-defined]
    assert user is not None
    return user


def test_a_posting_past_the_balance_bound_is_refused_and_changes_nothing(
        backend: Backend) -> None:
    with backend.db.write() as session:
        adjust(session, _bob(session), "EUR", account_kind=AccountKind.USER_PERSONAL,
               amount=MAX_BALANCE, reason="test: up to the bound", actor="test")
    for amount in (Decimal("0.01"), Decimal("900000000000000")):
        with pytest.raises(LedgerError) as refused, backend.db.write() as session:
            adjust(session, _bob(session), "EUR", account_kind=AccountKind.USER_PERSONAL,
                   amount=amount, reason="test: past it", actor="test")
        assert refused.value.code == "balance_limit"
        assert "limit" in refused.value.detail
    with backend.db.read() as session:
        # The bound's side: the adjustments counterpart is at -MAX_BALANCE, bob at +.
        assert balance(session, _bob(session), "EUR").personal_credit == MAX_BALANCE
    # The db fixture checks every invariant (entries = cached balances) after the test.


def test_two_huge_adjustments_cannot_overflow_into_a_float(backend: Backend) -> None:
    huge = Decimal("900000000000000")  # 9e18 in storage units: two of them overflow int64
    with pytest.raises(LedgerError), backend.db.write() as session:
        adjust(session, _bob(session), "EUR", account_kind=AccountKind.USER_PERSONAL,
               amount=huge, reason="test", actor="test")
    with backend.db.read() as session:
        assert balance(session, _bob(session), "EUR").personal_credit == Decimal("0.00")


def test_overdraft_limit_in_imports_is_bounded_and_strict(backend: Backend) -> None:
    csv = ("username,display_name,language,status,cards,overdraft_limit\n"
           "zoe,Zoe,en,active,,1e30\n"
           "yan,Yan,en,active,,1000000.01\n"
           "xia,Xia,en,active,,+3\n")
    report = import_users_csv(backend.db, csv, SECRET, actor="admin:test")
    assert [error.split(":")[0] for error in report.errors] == ["line 2", "line 3", "line 4"]
    assert all("overdraft_limit" in error for error in report.errors)


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "printkiosk", "backend", "--config",
                           str(config), *args], capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.fixture
def cli_config(tmp_path: Path) -> Path:
    config = tmp_path / "backend.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/a.sqlite3"\n\n'
        f'[security]\nsecret_key_file = "{tmp_path}/secret.key"\n', encoding="utf-8")
    assert _cli(config, "--demo-data", "--migrate-only").returncode == 0
    return config


@pytest.mark.parametrize("amount", ["900000000000000", "1e15", "1_000", "-0.00"])
def test_cli_adjust_refuses_what_the_api_refuses(cli_config: Path, amount: str) -> None:
    done = _cli(cli_config, "adjust", "--user", "bob", "--account", "personal",
                f"--amount={amount}", "--reason", "test")
    assert done.returncode == 2, done.stdout
    assert done.stderr.startswith("amount_invalid: --amount"), done.stderr
    assert "Traceback" not in done.stderr


def test_cli_adjust_bounds_the_balance_and_check_stays_ok(cli_config: Path) -> None:
    for _ in range(3):
        done = _cli(cli_config, "adjust", "--user", "bob", "--account", "personal",
                    "--amount", "1000000.00", "--reason", "big cash deposit")
        assert done.returncode == 0, done.stderr
    negative = _cli(cli_config, "adjust", "--user", "bob", "--account", "personal",
                    "--amount=-2000000.00", "--reason", "x")
    assert negative.returncode == 2 and "amount_invalid" in negative.stderr
    checked = _cli(cli_config, "check")
    assert checked.returncode == 0 and "ledger OK" in checked.stdout, checked.stderr


def test_check_on_an_overflowing_ledger_says_so_in_one_line(cli_config: Path,
                                                            tmp_path: Path) -> None:
    """A ledger damaged before the bound existed (entries whose SUM overflows): check
    reports it, exit 1, no traceback."""
    with sqlite3.connect(tmp_path / "a.sqlite3") as db:
        (account,) = db.execute("SELECT id FROM accounts WHERE key LIKE 'revenue:%'").fetchone()
        db.execute("INSERT INTO ledger_transactions (kind, description, created_at) "
                   "VALUES ('adjustment', 'damaged', '2026-01-01 00:00:00')")
        (txn,) = db.execute("SELECT max(id) FROM ledger_transactions").fetchone()
        for _ in range(2):
            db.execute("INSERT INTO ledger_entries (transaction_id, account_id, amount) "
                       "VALUES (?, ?, 9000000000000000000)", (txn, account))
    checked = _cli(cli_config, "check")
    assert checked.returncode == 1, checked.stdout
    assert "Traceback" not in checked.stderr, checked.stderr
    assert checked.stderr.startswith("ledger NOT OK"), checked.stderr


@pytest.mark.parametrize("raw", ["12345678", "999999999.00"])
def test_an_amount_with_too_many_digits_is_refused_as_too_large(raw: str) -> None:
    """Digits a person typed, one too many: the reason is the maximum, not the spelling."""
    with pytest.raises(ValueError, match=r"exceeds the maximum 1000000\.00"):
        parse_amount(raw)


@pytest.mark.parametrize(("typed", "amount"), [
    ("5,00", Decimal("5.00")), (" 12.5 ", Decimal("12.50")), ("0,99", Decimal("0.99")),
    ("7", Decimal("7.00"))])
def test_a_typed_amount_may_use_a_decimal_comma(typed: str, amount: Decimal) -> None:
    assert parse_typed_amount(typed) == amount


@pytest.mark.parametrize("typed", ["1,234.50", "1.234,50", "1,2,3", "5,", ",5,", "-5,00",
                                   "5 00", "€5"])
def test_a_typed_amount_with_two_separators_or_other_marks_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_typed_amount(typed)
