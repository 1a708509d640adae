"""Guessing limits on voucher redemption (issue 13): unknown codes lock the terminal and
the user after N in the window (SQLite and PostgreSQL, concurrent guesses included), a
typo never counts, a lockout is audited once and survives a restart."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from backend_fixtures import SECRET, Backend
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from voucher_helpers import make_batch, redeem

from backend.app import create_app
from backend.config import BackendConfig, BackendConfigError, load_backend_config
from backend.models import AuditEntry, User, VoucherFailure, VoucherLockout, utcnow
from backend.terminals import register_terminal
from billing.voucher_codes import new_code

LIMIT = 5  # the default: 5 per 10 minutes


def _other_terminal(backend: Backend, token: str) -> None:
    with backend.db.write() as session:
        register_terminal(session, SECRET, token, token)


def test_a_thousand_random_codes_lock_the_terminal_after_n_and_even_a_valid_code_waits(
        backend: Backend) -> None:
    _batch, codes = make_batch(backend.db, count=1, sold=1)
    headers = backend.headers(user="bob")
    answers = [redeem(backend.client, headers, new_code().display) for _ in range(1000)]
    statuses = [status for status, _body, _headers in answers]
    assert statuses == [404] * LIMIT + [429] * (1000 - LIMIT)
    assert {body["code"] for _s, body, _h in answers[:LIMIT]} == {"voucher_unknown"}
    _status, body, headers_429 = answers[-1]
    assert body["code"] == "voucher_rate_limited"
    assert 480 <= int(headers_429["retry-after"]) <= 600  # the first guess + 10 min
    assert body["retry_after_s"] == int(headers_429["retry-after"])
    status, body, _ = redeem(backend.client, headers, codes[0].display)
    assert status == 429 and body["code"] == "voucher_rate_limited"
    with backend.db.read() as session:
        audits = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "voucher.lockout")).all()
        failures = session.scalar(select(func.count()).select_from(VoucherFailure))
    assert len(audits) == 1 and audits[0].details is not None
    assert audits[0].details["count"] == LIMIT
    assert failures == LIMIT


def test_typos_never_count_as_guesses(backend: Backend) -> None:
    _batch, codes = make_batch(backend.db, count=1, sold=1)
    body = codes[0].body
    wrong_check = body[:-1] + ("0" if body[-1] != "0" else "1")
    for _ in range(50):
        status, answer, _ = redeem(backend.client, backend.headers(user="bob"), wrong_check)
        assert status == 422 and answer["code"] == "voucher_typo"
    status, answer, _ = redeem(backend.client, backend.headers(user="bob"), codes[0].display)
    assert status == 200, answer
    with backend.db.read() as session:
        assert session.scalar(select(func.count()).select_from(VoucherFailure)) == 0


def test_the_limit_is_per_terminal_and_per_user(backend: Backend) -> None:
    _other_terminal(backend, "second-kiosk-token")
    for _ in range(LIMIT):
        assert redeem(backend.client, backend.headers(user="bob"), new_code().display)[0] == 404
    # bob at another kiosk: locked (user); alice at bob's kiosk: locked (terminal)
    status, body, _ = redeem(backend.client, backend.headers("second-kiosk-token", user="bob"),
                             new_code().display)
    assert status == 429 and "user" in body["detail"]
    status, body, _ = redeem(backend.client, backend.headers(user="alice"), new_code().display)
    assert status == 429 and "terminal" in body["detail"]
    # carol at the other kiosk: neither limit concerns her
    status, _body, _ = redeem(backend.client,
                              backend.headers("second-kiosk-token", user="carol"),
                              new_code().display)
    assert status == 404
    with backend.db.read() as session:
        scopes = sorted(session.scalars(select(VoucherLockout.scope)))
    assert scopes == ["terminal", "user"]


def test_sixteen_concurrent_guesses_cannot_all_slip_under_the_limit(backend: Backend) -> None:
    users = [f"guesser{n}" for n in range(16)]
    with backend.db.write() as session:
        session.add_all(User(username=name, display_name=name) for name in users)
    headers = [backend.headers(user=name) for name in users]  # one kiosk, 16 users
    barrier = threading.Barrier(16)

    def guess(index: int) -> str:
        barrier.wait()
        return str(redeem(backend.client, headers[index], new_code().display)[1]["code"])

    with ThreadPoolExecutor(16) as pool:
        codes = Counter(pool.map(guess, range(16)))
    assert codes == {"voucher_unknown": LIMIT, "voucher_rate_limited": 16 - LIMIT}


def test_a_lockout_survives_a_restart_and_ends_with_the_window(backend: Backend) -> None:
    for _ in range(LIMIT):
        redeem(backend.client, backend.headers(user="bob"), new_code().display)
    restarted = create_app(backend.config, backend.db, SECRET, migrate=False)
    with TestClient(restarted) as client:
        status, _body, _ = redeem(client, backend.headers(user="bob"), new_code().display)
        assert status == 429
        with backend.db.write() as session:  # ten minutes and a second later
            session.execute(update(VoucherFailure).values(
                at=utcnow() - timedelta(minutes=10, seconds=1)))
        status, _body, _ = redeem(client, backend.headers(user="bob"), new_code().display)
        assert status == 404


def test_the_limit_is_configured_in_backend_toml(backend: Backend) -> None:
    config = BackendConfig.model_validate({
        "database": {"url": str(backend.db.engine.url)},
        "vouchers": {"max_failed_attempts": 2, "failure_window_min": 1}})
    with TestClient(create_app(config, backend.db, SECRET, migrate=False)) as client:
        statuses = [redeem(client, backend.headers(user="bob"), new_code().display)[0]
                    for _ in range(3)]
        assert statuses == [404, 404, 429]
        assert int(redeem(client, backend.headers(user="bob"),
                          new_code().display)[2]["retry-after"]) <= 60


@pytest.mark.parametrize(("text", "problem"), [
    ("[vouchers]\nmax_failed_attempts = 0\n",
     "backend.toml: vouchers.max_failed_attempts: 0 is not an integer between 1 and 1000"),
    ('[vouchers]\nfailure_window_min = "10"\n',
     "backend.toml: vouchers.failure_window_min: '10' is not an integer between 1 and 10080"),
    ('[vouchers]\ntimezone = "Mars/Olympus"\n',
     "backend.toml: vouchers.timezone: 'Mars/Olympus' is not an IANA time zone name"),
    ("[vouchers]\nmax_guesses = 3\n",
     "backend.toml: vouchers.max_guesses: unknown key (allowed: "
     "card_language, expire_check_interval_s, failure_window_min, max_failed_attempts, "
     "site_name, timezone)"),
])
def test_bad_voucher_settings_are_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "backend.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BackendConfigError) as refused:
        load_backend_config(path)
    assert refused.value.problems[0].startswith(problem), refused.value.problems


def test_doctor_names_a_bad_voucher_setting(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from printkiosk.cli import main

    path = tmp_path / "backend.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/d.sqlite3"\n\n'
                    "[vouchers]\nfailure_window_min = 0\n", encoding="utf-8")
    assert main(["doctor", "--config", str(path)]) == 2
    assert "vouchers.failure_window_min: 0 is not an integer between 1 and 10080" in \
        capsys.readouterr().err
