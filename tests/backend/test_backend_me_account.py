"""The rules of the user's own page (backend.me_account), on SQLite and PostgreSQL: only
the user's own transactions and jobs, paged; a voucher typed on /me shares the kiosks'
per-user guessing limit (no attempts of its own) and is audited with its origin; the
language saved and audited as the user's own change; the password rules and the end of
the other /me sessions; a top-up started from /me through the kiosk's start_top_up."""

from __future__ import annotations

import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from backend_fixtures import SECRET, Backend
from sqlalchemy import func, select
from topup_helpers import personal, user_id
from voucher_helpers import make_batch, redeem

from backend import me_account, topups, vouchers
from backend.app import prepare_database
from backend.config import load_backend_config
from backend.db import Database
from backend.demo import seed_demo, seed_demo_print3d
from backend.models import (
    AuditEntry,
    LedgerTransaction,
    TopUp,
    User,
    VoucherFailure,
    VoucherLockout,
)
from backend.payments.fakes import FakeGateway
from backend.web.passwords import hash_password, verify_password
from backend.web.sessions import open_session, open_sessions
from billing.voucher_codes import new_code
from printkiosk import REPO_CONFIG
from printkiosk.commands.demo import DEMO_LOGIN_RATE, DEMO_PRICE_LISTS, demo_backend_toml

ORIGIN = "web:192.0.2.7"
LIMIT = 5


def _web_redeem(backend: Backend, username: str, code: str) -> object:
    return me_account.redeem_voucher(backend.db, SECRET, backend.config,
                                     user_id(backend.db, username), code, ORIGIN)


def test_transactions_are_the_users_own_with_their_effect_and_pages(backend: Backend) -> None:
    alice = user_id(backend.db, "alice")
    with backend.db.read() as session:
        page = me_account.transactions(session, alice, 1, per_page=1)
        second = me_account.transactions(session, alice, 2, per_page=1)
        third = me_account.transactions(session, alice, 3, per_page=1)
        everyone = session.scalar(select(func.count()).select_from(LedgerTransaction))
    assert [(row.kind, row.amount) for row in page.rows + second.rows] == [
        ("deposit", Decimal("5.00")), ("refill", Decimal("10.00"))]
    assert (page.more, second.more, third.rows, third.more) == (True, False, [], False)
    assert everyone is not None and everyone > 2  # others' exist, none is alice's page
    with backend.db.read() as session:  # a nonsense page number is the first page
        assert me_account.transactions(session, alice, -4).number == 1
        assert me_account.print_jobs(session, alice, 0).rows == []


def test_a_typo_on_the_page_is_no_guess_and_an_unknown_code_counts(backend: Backend) -> None:
    _batch, codes = make_batch(backend.db, count=1, sold=1, value="2.00")
    body = codes[0].body
    refusal = _web_redeem(backend, "bob", body[:-1] + ("0" if body[-1] != "0" else "1"))
    assert isinstance(refusal, vouchers.Refusal) and refusal.code == "voucher_typo"
    refusal = _web_redeem(backend, "bob", new_code().display)
    assert isinstance(refusal, vouchers.Refusal) and refusal.code == "voucher_unknown"
    with backend.db.read() as session:
        failures = session.scalars(select(VoucherFailure)).all()
    assert [(f.terminal_id, f.user_id) for f in failures] == [(None, user_id(backend.db,
                                                                                "bob"))]


def test_the_page_and_the_kiosks_share_one_per_user_limit(backend: Backend) -> None:
    _batch, codes = make_batch(backend.db, count=1, sold=1, value="2.00")
    for _ in range(LIMIT - 2):  # guesses at the kiosk...
        assert redeem(backend.client, backend.headers(user="bob"), new_code().display)[0] == 404
    for _ in range(2):  # ... and on the page: together, the limit
        outcome = _web_redeem(backend, "bob", new_code().display)
        assert isinstance(outcome, vouchers.Refusal) and outcome.code == "voucher_unknown"
    locked = _web_redeem(backend, "bob", codes[0].display)  # even a real code waits
    assert isinstance(locked, vouchers.Refusal) and locked.code == "voucher_rate_limited"
    assert locked.retry_after_s is not None and 480 <= locked.retry_after_s <= 600
    status, body, _ = redeem(backend.client, backend.headers(user="bob"), codes[0].display)
    assert status == 429 and "user" in body["detail"]
    # alice on the page is not locked by bob's guesses (no "web terminal" scope)
    assert isinstance(_web_redeem(backend, "alice", codes[0].display), me_account.Redeemed)
    with backend.db.read() as session:
        lockouts = session.scalars(select(VoucherLockout)).all()
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "voucher.lockout")).one()
    assert [(row.scope, row.terminal_id) for row in lockouts] == [("user", None)]
    assert (audit.actor, audit.origin) == ("user:bob", ORIGIN)


def test_a_redemption_on_the_page_credits_once_and_is_audited(backend: Backend) -> None:
    _batch, codes = make_batch(backend.db, count=1, sold=1, value="2.00")
    before = personal(backend.db, "bob")
    done = _web_redeem(backend, "bob", codes[0].display)
    assert isinstance(done, me_account.Redeemed) and done.value == Decimal("2.00")
    again = _web_redeem(backend, "bob", codes[0].display)
    assert isinstance(again, vouchers.Refusal) and again.code == "voucher_redeemed"
    assert personal(backend.db, "bob") == before + Decimal("2.00")
    with backend.db.read() as session:
        posted = session.get(LedgerTransaction, done.transaction_id)
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "voucher.redeem")).one()
        assert posted is not None
        assert (posted.kind, posted.terminal_id, posted.actor) == (
            "voucher_redemption", None, "user:bob")
        assert me_account.own_transaction(session, user_id(backend.db, "alice"),
                                          done.transaction_id) is None
    assert (audit.actor, audit.origin) == ("user:bob", ORIGIN)


def test_the_language_is_saved_and_audited_as_the_users_change(backend: Backend) -> None:
    alice = user_id(backend.db, "alice")
    with backend.db.write() as session:
        assert me_account.set_language(session, alice, "en", ORIGIN) is True
        assert me_account.set_language(session, alice, "en", ORIGIN) is False  # no change
        with pytest.raises(ValueError, match="language 'de'"):
            me_account.set_language(session, alice, "de", ORIGIN)
    with backend.db.read() as session:
        assert session.get(User, alice).language == "en"  # type: ignore[union-attr]
        audits = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "user.language")).all()
    assert [(a.actor, a.origin, a.details) for a in audits] == [
        ("user:alice", ORIGIN, {"from": "fr", "to": "en"})]


@pytest.mark.parametrize(("current", "new", "repeat", "field", "reason"), [
    ("wrong-password", "a-new-password", "a-new-password", "current", "wrong_current"),
    ("old-password-1", "short", "short", "new", "a password needs at least 10 characters"),
    ("old-password-1", "a-new-password", "a-new-passwort", "repeat", "mismatch"),
    ("old-password-1", "old-password-1", "old-password-1", "new", "same"),
    ("old-password-1", "tab\tinside-it", "tab\tinside-it", "new", None),
])
def test_password_rules(current: str, new: str, repeat: str, field: str,
                        reason: str | None) -> None:
    stored = hash_password(SECRET, "old-password-1")
    refusal = me_account.password_refusal(SECRET, stored, current, new, repeat)
    assert refusal is not None and refusal.field == field
    assert reason is None or refusal.reason == reason


def test_a_password_change_ends_every_me_session_not_staff_ones(backend: Backend) -> None:
    carol = user_id(backend.db, "carol")
    for area in ("me", "me", "staff"):
        open_session(backend.db, SECRET, carol, area, ORIGIN, "test")
    with backend.db.write() as session:
        ended = me_account.change_password(session, SECRET, carol, "a-new-password", ORIGIN)
    assert ended == 2
    with backend.db.read() as session:
        assert [s.area for s in open_sessions(session, carol)] == ["staff"]
        user = session.get(User, carol)
        assert user is not None and verify_password(SECRET, "a-new-password",
                                                    user.password_hash)
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "user.password")).one()
    assert (audit.actor, audit.origin, audit.details) == ("user:carol", ORIGIN,
                                                          {"sessions_ended": 2})


def test_a_top_up_from_the_page_is_the_kiosks_with_no_terminal(backend: Backend) -> None:
    gateway = FakeGateway()
    bob = user_id(backend.db, "bob")

    def start(key: str) -> TopUp:
        return topups.start_top_up(backend.db, SECRET, gateway, user_id=bob,
                                   terminal_id=None, amount=Decimal("5.00"), currency="EUR",
                                   expire_after=timedelta(minutes=10),
                                   public_base_url="http://kiosk.test", idempotency_key=key,
                                   actor="user:bob", origin=ORIGIN)

    first, again = start("me:op1"), start("me:op1")
    assert first.public_id == again.public_id and first.terminal_id is None
    assert start("me:op2").public_id != first.public_id
    with backend.db.read() as session:
        assert me_account.own_top_up(session, bob, first.public_id) is not None
        assert me_account.own_top_up(session, user_id(backend.db, "alice"),
                                     first.public_id) is None
        audits = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "topup.start")).all()
    assert [(a.actor, a.origin) for a in audits] == [("user:bob", ORIGIN)] * 2


def test_the_3d_jobs_are_the_users_own(tmp_path: Path) -> None:
    """With the demo's [print3d] group: alice's two uploads, bob's one, newest first."""
    lists = tmp_path / "pricelists"
    lists.mkdir()
    for name in DEMO_PRICE_LISTS:
        shutil.copyfile(REPO_CONFIG / "pricelists" / name, lists / name)
    database = (tmp_path / "backend.sqlite3").as_posix()
    (tmp_path / "backend.toml").write_text(
        demo_backend_toml(8470, database, lists, DEMO_LOGIN_RATE, None), encoding="utf-8")
    config = load_backend_config(tmp_path / "backend.toml")
    db = Database.from_url(config.database_url)
    try:
        prepare_database(db, "EUR")
        seed_demo(db, SECRET, "EUR")
        seed_demo_print3d(db, config)
        with db.read() as session:
            alice = me_account.print3d_jobs(session, user_id(db, "alice"))
            bob = me_account.print3d_jobs(session, user_id(db, "bob"))
    finally:
        db.dispose()
    assert sorted(job.name for job in alice) == ["bracket-mk3s.gcode", "demo-cube.gcode"]
    assert [job.name for job in bob] == ["tower.gcode"]
    assert alice[0].uploaded_at >= alice[1].uploaded_at
