"""`printkiosk backend` as a real process on a free loopback port: demo card 1001 over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pg_cluster import free_port

from backend.demo import DEMO_TERMINAL_TOKEN
from printkiosk.commands.demo import stop_demo_backend


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"backend exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("backend did not come up within 30 s")


@pytest.fixture
def backend_process(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    config = tmp_path / "backend.toml"
    config.write_text(
        f'[server]\nport = {port}\n\n[database]\nurl = "sqlite:///{tmp_path}/b.sqlite3"\n\n'
        f'[security]\nsecret_key_file = "{tmp_path}/secret.key"\n',
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "printkiosk", "backend", "--config", str(config),
         "--host", "127.0.0.1", "--demo-data"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        stop_demo_backend(process)


def test_demo_card_1001_is_alice_over_http(backend_process: str) -> None:
    answer = httpx.post(f"{backend_process}/api/v1/sessions", json={"card": "1001"},
                        headers={"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"}, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["display_name"] == "Alice Martin"
    assert answer.json()["balance"]["available"] == "15.00"


def test_migrate_only_exits_after_creating_the_schema(tmp_path: Path) -> None:
    config = tmp_path / "backend.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/m.sqlite3"\n\n'
        f'[security]\nsecret_key_file = "{tmp_path}/secret.key"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "printkiosk", "backend", "--config", str(config),
         "--migrate-only"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m.sqlite3").exists()
    assert oct((tmp_path / "secret.key").stat().st_mode & 0o777) == "0o600"


def test_bad_config_exits_2_naming_the_problem(tmp_path: Path) -> None:
    config = tmp_path / "backend.toml"
    config.write_text('[server]\nport = "abc"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "printkiosk", "backend", "--config", str(config)],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "backend.toml: server.port: 'abc' is not an integer between 1 and 65535" in done.stderr


def test_cli_enrolment_key_list_and_revoke(tmp_path: Path) -> None:
    config = tmp_path / "backend.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/c.sqlite3"\n\n'
        f'[security]\nsecret_key_file = "{tmp_path}/secret.key"\n', encoding="utf-8")
    base = [sys.executable, "-m", "printkiosk", "backend", "--config", str(config)]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=60,
                              check=False)

    listed = cli("--demo-data", "terminals")
    assert listed.returncode == 0, listed.stderr
    terminal_id, state = listed.stdout.splitlines()[1].split()[:2]
    assert state == "new" and "demo kiosk" in listed.stdout
    assert cli("revoke", "--terminal", terminal_id).returncode == 0
    assert cli("terminals").stdout.splitlines()[1].split()[1] == "revoked"
    key = cli("enrolment-key")
    assert key.returncode == 0 and len(key.stdout.splitlines()[2].split()[0]) >= 40
    assert cli("revoke", "--terminal", "nope").returncode == 2


def test_cli_billing_code_import_dry_run_then_for_real(tmp_path: Path) -> None:
    config = tmp_path / "backend.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/i.sqlite3"\n\n'
        f'[security]\nsecret_key_file = "{tmp_path}/secret.key"\n', encoding="utf-8")
    codes = tmp_path / "codes.csv"
    base = [sys.executable, "-m", "printkiosk", "backend", "--config", str(config),
            "import-billing-codes", "--file", str(codes)]
    codes.write_text("code,name,parent\nACME,ACME Corp,\nACME-1,Project,NOPE\n",
                     encoding="utf-8")
    bad = subprocess.run(base, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert "codes.csv: line 3: parent: no billing code 'NOPE'" in bad.stderr
    codes.write_text("code,name,parent\nACME,ACME Corp,\nACME-1,Project,ACME\n",
                     encoding="utf-8")
    dry = subprocess.run([*base, "--dry-run"], capture_output=True, text=True, timeout=60,
                         check=False)
    assert dry.returncode == 0 and "2 created" in dry.stdout and "would be" in dry.stdout
    real = subprocess.run(base, capture_output=True, text=True, timeout=60, check=False)
    assert real.returncode == 0 and "2 created" in real.stdout, real.stderr


def test_cli_adjust_with_reason_then_check(tmp_path: Path) -> None:
    config = tmp_path / "backend.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/a.sqlite3"\n\n'
        f'[security]\nsecret_key_file = "{tmp_path}/secret.key"\n', encoding="utf-8")
    base = [sys.executable, "-m", "printkiosk", "backend", "--config", str(config)]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=60,
                              check=False)

    done = cli("--demo-data", "adjust", "--user", "bob", "--account", "personal",
               "--amount", "2.50", "--reason", "cash paid at the desk")
    assert done.returncode == 0, done.stderr
    assert "bob: virtual 2.00, personal 2.50 EUR" in done.stdout
    no_reason = cli("adjust", "--user", "bob", "--account", "personal", "--amount", "1.00")
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    too_much = cli("adjust", "--user", "bob", "--account", "virtual", "--amount", "-2.01",
                   "--reason", "x")
    assert too_much.returncode == 2 and "virtual_credit_negative" in too_much.stderr
    checked = cli("check")
    assert checked.returncode == 0 and "ledger OK" in checked.stdout


def test_cli_set_pin_reads_stdin_and_the_pin_then_works(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "backend.toml"
    config.write_text(
        f'[server]\nport = {port}\n\n[database]\nurl = "sqlite:///{tmp_path}/s.sqlite3"\n\n'
        f'[security]\nsecret_key_file = "{tmp_path}/secret.key"\n', encoding="utf-8")
    base = [sys.executable, "-m", "printkiosk", "backend", "--config", str(config)]
    weak = subprocess.run([*base, "--demo-data", "set-pin", "--user", "bob"], input="12\n",
                          capture_output=True, text=True, timeout=60, check=False)
    assert weak.returncode == 2 and "4 to 8 digits" in weak.stderr
    done = subprocess.run([*base, "set-pin", "--user", "bob"], input="987654\n",
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    process = subprocess.Popen(base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        headers = {"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"}
        new = httpx.post(f"{url}/api/v1/sessions", headers=headers, timeout=5,
                         json={"username": "bob", "pin": "987654"})
        old = httpx.post(f"{url}/api/v1/sessions", headers=headers, timeout=5,
                         json={"username": "bob", "pin": "2345"})
        assert new.status_code == 200 and old.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


def _config(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "backend.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/o.sqlite3"\n\n'
        f'[security]\nsecret_key_file = "{tmp_path}/secret.key"\n', encoding="utf-8")
    return config


def _cli(config: Path, *args: str, tz: str = "Europe/Paris") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "printkiosk", "backend", "--config", str(config), *args],
        capture_output=True, text=True, timeout=60, check=False, env={**os.environ, "TZ": tz})


def test_without_config_it_refuses_and_creates_no_database(tmp_path: Path) -> None:
    """Issue 11 item 9: no silent empty database under the data directory."""
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    for args in (["terminals"], ["--demo-data"], []):
        done = subprocess.run([sys.executable, "-m", "printkiosk", "backend", *args],
                              capture_output=True, text=True, timeout=60, check=False, env=env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "no --config FILE given" in done.stderr and "printkiosk demo" in done.stderr
    assert list(tmp_path.rglob("*.sqlite3")) == [] and list(tmp_path.rglob("*.key")) == []


def test_terminals_is_a_table_in_local_time_with_a_summary(tmp_path: Path) -> None:
    from sqlalchemy import update

    from backend.db import Database
    from backend.models import Terminal

    config = _config(tmp_path)
    assert _cli(config, "--demo-data", "--migrate-only").returncode == 0
    db = Database.from_url(f"sqlite:///{tmp_path}/o.sqlite3")
    with db.write() as session:
        session.execute(update(Terminal).values(
            last_seen_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
            created_at=datetime(2026, 1, 15, 8, 30, tzinfo=UTC)))
    db.dispose()
    listed = _cli(config, "terminals")
    assert listed.returncode == 0, listed.stderr
    header, row, summary = listed.stdout.splitlines()
    assert header.split() == ["ID", "STATE", "LAST", "SEEN", "ENROLLED", "PRINTER", "NAME"]
    # stored in UTC, shown in the machine's zone: 12:00 UTC is 14:00 in Paris in July
    assert "disconnected  2026-07-01 14:00 CEST  2026-01-15 09:30 CET" in row
    assert row.endswith("demo kiosk")
    assert summary == "1 terminal: 1 disconnected"
    empty = _cli(_config(tmp_path / "other"), "terminals")
    assert "No terminal is enrolled yet" in empty.stdout


def test_enrolment_key_says_what_was_done(tmp_path: Path) -> None:
    done = _cli(_config(tmp_path), "enrolment-key", tz="UTC")
    assert done.returncode == 0, done.stderr
    intro, header, row, after = done.stdout.splitlines()
    assert intro.startswith("Created a one-time terminal enrolment key")
    assert header.split() == ["KEY", "CREATED", "VALID", "FOR"]
    key, day, clock, zone = row.split()[:4]
    assert len(key) >= 40 and row.endswith("one enrolment")
    created = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert zone == "UTC" and abs((datetime.now(UTC) - created).total_seconds()) < 120
    assert "spent by the first terminal that enrols" in after


def test_refill_reports_each_top_up_and_the_total(tmp_path: Path) -> None:
    from decimal import Decimal

    from sqlalchemy import select

    from backend.db import Database
    from backend.models import Group, QuotaRule

    config = _config(tmp_path)
    nothing = _cli(config, "--demo-data", "refill")
    assert nothing.returncode == 0 and nothing.stdout.startswith("Nothing refilled")
    db = Database.from_url(f"sqlite:///{tmp_path}/o.sqlite3")
    with db.write() as session:
        staff = session.scalar(select(Group).where(Group.name == "staff"))
        assert staff is not None
        session.add(QuotaRule(group_id=staff.id, period="monthly", amount=Decimal("20.00"),
                              carry_over_cap=Decimal("60.00")))
    db.dispose()
    done = _cli(config, "refill")
    assert done.returncode == 0, done.stderr
    header, row, summary = done.stdout.splitlines()
    assert header.split()[:3] == ["USER", "GROUP", "PERIOD"] and "ADDED (EUR)" in header
    assert row.split()[:2] == ["carol", "staff"] and row.split()[3:] == ["10.00", "60.00"]
    assert row.split()[2].startswith("monthly:")
    assert summary == "Refilled 1 user: 10.00 EUR of virtual credit added."
    assert _cli(config, "refill").stdout.startswith("Nothing refilled")
