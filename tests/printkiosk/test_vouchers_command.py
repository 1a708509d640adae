"""``printkiosk vouchers`` as an operator runs it (issue 13): through ``printkiosk.cli.main``
on a backend configuration of its own (SQLite file, secret key file), and one real
subprocess. Each bad input is one line on stderr, exit status 2, and changes nothing;
every change is audited as ``cli:<user>``; the ledger invariants (the voucher liability
included) hold after each test."""

from __future__ import annotations

import csv
import getpass
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode
from sqlalchemy import func, select

from backend.config import load_backend_config
from backend.db import Database
from backend.ledger import check_invariants
from backend.models import AuditEntry, Voucher, VoucherBatch
from printkiosk.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "backend.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/v.sqlite3"\n\n'
                    f'[security]\nsecret_key_file = "{tmp_path}/secret.key"\n\n'
                    '[vouchers]\nsite_name = "Library"\n', encoding="utf-8")
    yield path
    db = Database.from_url(load_backend_config(path).database_url)
    with db.read() as session:
        report = check_invariants(session)
    db.dispose()
    assert report.ok, report


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["vouchers", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def _db(config: Path) -> Database:
    return Database.from_url(load_backend_config(config).database_url)


def _create(capsys: pytest.CaptureFixture[str], config: Path, output: Path,
            count: str = "12") -> tuple[str, str]:
    status, out, err = _run(capsys, "create", "--config", str(config), "--value", "5.00",
                            "--count", count, "--expires", "2099-06-30", "--prefix", "lib",
                            "--output", str(output))
    assert status == 0, err
    batch = re.search(r"Created batch (\S+):", out)
    token = re.search(r"export token \(shown only now\): (\S+)", out)
    assert batch and token, out
    return batch.group(1), token.group(1)


def _codes(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [row["code"] for row in csv.DictReader(handle)]


def test_create_writes_a_private_export_once_and_the_token_exports_once_more(
        capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path) -> None:
    export = tmp_path / "codes.csv"
    batch, token = _create(capsys, config, export)
    assert batch.startswith("LIB-")
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    codes = _codes(export)
    assert len(codes) == 12 and all(code.startswith("LIB-") for code in codes)
    again = tmp_path / "again.csv"
    status, _out, err = _run(capsys, "export", batch, "--config", str(config), "--token",
                             "wrong-token", "--format", "csv", "--output", str(again))
    assert status == 2 and "not its export token" in err and not again.exists()
    status, _out, err = _run(capsys, "export", batch, "--config", str(config), "--token",
                            token, "--format", "csv", "--output", str(again))
    assert status == 0, err
    assert _codes(again) == codes
    assert stat.S_IMODE(again.stat().st_mode) == 0o600
    third = tmp_path / "third.csv"
    status, _out, err = _run(capsys, "export", batch, "--config", str(config), "--token",
                             token, "--output", str(third))
    assert status == 2 and "already exported" in err and not third.exists()
    db = _db(config)
    with db.read() as session:
        actors = set(session.scalars(select(AuditEntry.actor).where(
            AuditEntry.action.in_(("voucher.create", "voucher.export")))))
    db.dispose()
    assert actors == {f"cli:{getpass.getuser()}"}


def test_sell_revoke_stats_expire_and_show(capsys: pytest.CaptureFixture[str], config: Path,
                                           tmp_path: Path) -> None:
    batch, _token = _create(capsys, config, tmp_path / "codes.csv", count="10")
    status, out, err = _run(capsys, "sell", batch, "--config", str(config), "--count", "4",
                            "--payment", "invoice", "--buyer", "Student union")
    assert status == 0, err
    assert "serials 1-4" in out and "20.00 EUR" in out
    status, _out, err = _run(capsys, "revoke", batch, "--config", str(config), "--serials",
                             "3-5", "--reason", "lost in the post")
    assert status == 2 and "--sold-vouchers refund" in err
    assert len(err.strip().splitlines()) == 1
    status, out, err = _run(capsys, "revoke", batch, "--config", str(config), "--serials",
                            "3-5", "--sold-vouchers", "refund", "--reason", "lost in the post")
    assert status == 0, err
    assert "1 in stock, 2 sold refunded" in out and "10.00 EUR" in out
    status, out, _err = _run(capsys, "stats", "--config", str(config))
    assert re.search(rf"{batch}\s+10\s+4\s+0\s+3\s+0\s+10.00 EUR", out), out
    assert "Total EUR: 10 issued, 4 sold, 0 redeemed, 3 revoked, 0 expired; liability " \
        "10.00 EUR" in out
    status, out, _err = _run(capsys, "expire", "--config", str(config))
    assert status == 0 and "Nothing to expire" in out
    status, out, _err = _run(capsys, "show", batch, "--config", str(config))
    assert re.search(r"in stock\s+5", out) and re.search(r"export token\s+unused", out), out
    status, out, _err = _run(capsys, "list", "--config", str(config))
    assert batch in out and "valid" in out


def test_cards_are_printed_only_for_redeemable_codes_of_the_batch(
        capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path) -> None:
    export = tmp_path / "codes.csv"
    batch, _token = _create(capsys, config, export, count="3")
    other = tmp_path / "other.csv"
    _create(capsys, config, other, count="1")
    assert _run(capsys, "revoke", batch, "--config", str(config), "--serials", "2",
                "--reason", "damaged")[0] == 0
    mixed = tmp_path / "mixed.csv"  # the batch's file with another batch's row forged in
    lines = export.read_text(encoding="utf-8").splitlines()
    foreign = other.read_text(encoding="utf-8").splitlines()[1].split(",")
    foreign[0], foreign[1] = batch, "9"
    mixed.write_text("\n".join([*lines, ",".join(foreign)]) + "\n", encoding="utf-8")
    pdf = tmp_path / "cards.pdf"
    status, out, err = _run(capsys, "cards", batch, "--config", str(config), "--codes",
                            str(mixed), "--output", str(pdf))
    assert status == 0, err
    assert "2 cards" in out and "2 code(s)" in err
    subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)
    found = {symbol.data.decode() for symbol in
             decode(Image.open(tmp_path / "page.png"), symbols=[ZBarSymbol.QRCODE])}
    codes = _codes(export)
    assert found == {codes[0], codes[2]}
    receipt = tmp_path / "cards.escpos"
    status, out, err = _run(capsys, "cards", batch, "--config", str(config), "--codes",
                            str(export), "--escpos", f"file:{receipt}")
    assert status == 0, err
    data = receipt.read_bytes()
    assert codes[0].encode() in data and codes[2].encode() in data
    assert codes[1].encode() not in data
    assert b"\x1d(k" in data  # the printer's own QR (GS ( k)


@pytest.mark.parametrize(("argv", "problem"), [
    (["--value", "abc"], "--value 'abc' is not an amount"),
    (["--value", "0"], "--value '0' must be > 0"),
    (["--expires", "2027-13-01"], "--expires '2027-13-01': not a date written YYYY-MM-DD"),
    (["--expires", "2020-01-01"], "expiry 2020-01-01: must be a future date"),
    (["--prefix", "LI B!"], "voucher prefix 'LI B!': use 1 to 6 letters or digits"),
    (["--count", "0"], "count 0: a batch holds 1 to 100000 vouchers"),
    (["--count", "100001"], "count 100001: a batch holds 1 to 100000 vouchers"),
    (["--count", "ten"], "--count 'ten': not a whole number"),
    (["--currency", "euro"], "--currency 'EURO': not a three-letter code"),
])
def test_bad_create_inputs_are_one_line_and_change_nothing(
        capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path, argv: list[str],
        problem: str) -> None:
    good = {"--value": "5.00", "--count": "10", "--expires": "2099-01-01", "--prefix": "LIB"}
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        good[flag] = value
    output = tmp_path / "codes.csv"
    status, out, err = _run(capsys, "create", "--config", str(config), "--output",
                            str(output), *[part for pair in good.items() for part in pair])
    assert status == 2, out
    assert err.count("\n") == 1 and problem in err and err.rstrip().endswith("nothing changed")
    assert not output.exists()
    db = _db(config)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(VoucherBatch)) == 0
    db.dispose()


def test_other_bad_inputs_change_nothing(capsys: pytest.CaptureFixture[str], config: Path,
                                         tmp_path: Path) -> None:
    export = tmp_path / "codes.csv"
    batch, _token = _create(capsys, config, export, count="3")
    refusals = [
        (["create", "--value", "1.00", "--count", "1", "--expires", "2099-01-01",
          "--output", str(export)], "already exists; refusing to overwrite"),
        (["sell", batch, "--count", "4"], "cannot sell 4: 3 voucher(s) in stock"),
        (["sell", "NOPE-1", "--count", "1"], "no voucher batch 'NOPE-1'"),
        (["revoke", batch, "--serials", "2-9", "--reason", "x"], "'2-9' is outside 1-3"),
        (["revoke", batch, "--serials", "x"], "needs --reason"),
        (["show"], "name the BATCH"),
    ]
    for argv, problem in refusals:
        status, _out, err = _run(capsys, argv[0], *argv[1:], "--config", str(config))
        assert status == 2 and problem in err and err.count("\n") == 1, (argv, err)
    db = _db(config)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Voucher).where(
            Voucher.sold_at.is_not(None) | Voucher.revoked_at.is_not(None))) == 0
    db.dispose()


def test_lockouts_are_listed_for_the_operator(capsys: pytest.CaptureFixture[str],
                                             config: Path) -> None:
    from datetime import timedelta

    from backend.demo import DEMO_TERMINAL_TOKEN, seed_demo
    from backend.models import User, utcnow
    from backend.terminals import authenticate
    from backend.voucher_limits import (
        GuessLimits,
        current_lockout,
        note_refusal,
        record_failure,
    )

    loaded = load_backend_config(config)
    assert _run(capsys, "list", "--config", str(config))[0] == 0  # creates the database
    db = _db(config)
    seed_demo(db, loaded.secret_key())
    limits = GuessLimits(5, timedelta(minutes=10))
    with db.write() as session:
        terminal = authenticate(session, loaded.secret_key(), DEMO_TERMINAL_TOKEN)
        bob = session.scalar(select(User).where(User.username == "bob"))
        assert bob is not None
        for _ in range(5):
            record_failure(session, limits, terminal.id, bob.id, utcnow())
        lockout = current_lockout(session, limits, terminal.id, bob.id, utcnow())
        assert lockout is not None
        note_refusal(session, lockout, terminal.id, bob.id, utcnow())
    db.dispose()
    status, out, _err = _run(capsys, "lockouts", "--config", str(config))
    assert status == 0
    assert re.search(rf"(terminal|user)\s+{terminal.id}\s+bob\s+5", out), out


def test_the_real_command_creates_100_vouchers(tmp_path: Path, config: Path) -> None:
    output = tmp_path / "codes.csv"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "printkiosk", "vouchers", "create",
                           "--config", str(config), "--value", "2.50", "--count", "100",
                           "--expires", "2099-12-31", "--output", str(output)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert len(_codes(output)) == 100
    assert "printkiosk vouchers cards" in done.stdout
