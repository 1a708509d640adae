"""Vouchers in the backend (issue 13): sale, redemption exactly once (16 terminals racing
over two real backend processes, SQLite and PostgreSQL), idempotent retries, expiry with
breakage posted once, revocation, the one-time export, and the liability invariant (the
conftest checks it after every test)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from backend_fixtures import SECRET, Backend, start_backend, stop_backend, write_config
from pg_cluster import free_port
from sqlalchemy import func, select, update
from voucher_helpers import make_batch, personal, redeem

from backend import ledger, vouchers
from backend.demo import DEMO_BATCH, demo_voucher_codes
from backend.ledger import LedgerError, check_invariants
from backend.models import (
    Account,
    AccountKind,
    AuditEntry,
    LedgerTransaction,
    User,
    Voucher,
    VoucherBatch,
    utcnow,
)
from backend.terminals import register_terminal
from backend.voucher_admin import expire_vouchers, revoke, stats


def _balance(backend: Backend, kind: str, currency: str = "EUR") -> Decimal:
    with backend.db.read() as session:
        return session.scalar(select(Account.balance).where(
            Account.key == ledger.account_key(kind, currency))) or Decimal("0.00")


def test_a_sold_voucher_credits_once_and_the_second_redemption_is_refused(
        backend: Backend) -> None:
    liability_before = _balance(backend, AccountKind.VOUCHER_LIABILITY)
    batch, codes = make_batch(backend.db, count=3, sold=3)
    assert _balance(backend, AccountKind.VOUCHER_LIABILITY) == liability_before + \
        Decimal("15.00")
    before = personal(backend, "bob")
    status, body, _ = redeem(backend.client, backend.headers(user="bob"),
                             codes[1].display.lower().replace("-", " "))
    assert status == 200, body
    assert body["voucher"] == {"batch": batch, "serial": 2, "value": "5.00",
                               "currency": "EUR", "expires_on": body["voucher"]["expires_on"]}
    assert body["credited"] == "5.00"
    assert Decimal(body["balance"]["personal_credit"]) == before + Decimal("5.00")
    assert personal(backend, "bob") == before + Decimal("5.00")
    status, again, _ = redeem(backend.client, backend.headers(user="alice"), codes[1].display)
    assert status == 409 and again["code"] == "voucher_redeemed", again
    assert again["redeemed_at"].startswith(str(utcnow().date()))
    assert personal(backend, "bob") == before + Decimal("5.00")
    with backend.db.read() as session:
        voucher = session.scalar(select(Voucher).join(VoucherBatch).where(
            VoucherBatch.public_id == batch, Voucher.serial == 2))
        assert voucher is not None and voucher.redeem_transaction_id == body["transaction_id"]
        bob = session.scalar(select(User).where(User.username == "bob"))
        assert bob is not None and voucher.redeemed_by_user_id == bob.id
    assert _balance(backend, AccountKind.VOUCHER_LIABILITY) == liability_before + \
        Decimal("10.00")


def test_a_retry_with_the_same_key_returns_the_first_answer_not_voucher_redeemed(
        backend: Backend) -> None:
    _batch, codes = make_batch(backend.db, count=1, sold=1)
    before = personal(backend, "alice")
    first = redeem(backend.client, backend.headers(user="alice"), codes[0].display, "retry-key-1")
    second = redeem(backend.client, backend.headers(user="alice"), codes[0].display, "retry-key-1")
    assert first[0] == second[0] == 200
    assert first[1] == second[1]
    assert personal(backend, "alice") == before + Decimal("5.00")


def test_a_typo_is_refused_before_any_lookup_and_a_card_in_stock_is_not_sold(
        backend: Backend) -> None:
    _batch, codes = make_batch(backend.db, count=2, sold=1)
    body = codes[0].body
    swapped = body[:3] + body[4] + body[3] + body[5:] if body[3] != body[4] else body[:-1] + (
        "0" if body[-1] != "0" else "1")
    status, answer, _ = redeem(backend.client, backend.headers(user="bob"), swapped)
    assert status == 422 and answer["code"] == "voucher_typo", answer
    status, answer, _ = redeem(backend.client, backend.headers(user="bob"), "LIB-7K3M-Q9")
    assert status == 422 and answer["code"] == "voucher_typo"
    status, answer, _ = redeem(backend.client, backend.headers(user="bob"), codes[1].display)
    assert status == 409 and answer["code"] == "voucher_not_sold"
    status, answer, _ = redeem(backend.client, backend.headers(), codes[0].display)
    assert status == 401 and answer["code"] == "session_required"


def test_a_voucher_in_another_currency_is_refused(backend: Backend) -> None:
    _batch, codes = make_batch(backend.db, count=1, sold=1, currency="CHF")
    status, answer, _ = redeem(backend.client, backend.headers(user="bob"), codes[0].display)
    assert status == 409 and answer["code"] == "voucher_currency", answer


RACERS = 16


def test_sixteen_terminals_and_users_racing_for_one_code_credit_it_once(
        backend: Backend, tmp_path: Path) -> None:
    """Two real backend processes on one database, eight terminals on each, a different
    user at each: only the database's guard stands between them."""
    _batch, codes = make_batch(backend.db, count=1, sold=1)
    tokens = [f"voucher-racer-{n}" for n in range(RACERS)]
    users = [f"racer{n}" for n in range(RACERS)]
    with backend.db.write() as session:
        for token, username in zip(tokens, users, strict=True):
            register_terminal(session, SECRET, token, token)
            session.add(User(username=username, display_name=username))
    headers = [backend.headers(token, user=username)
               for token, username in zip(tokens, users, strict=True)]
    url = backend.db.engine.url.render_as_string(hide_password=False)
    ports = [free_port() for _ in range(2)]
    processes = [start_backend(write_config(tmp_path / f"b{n}.toml", url, port,
                                            "[refill]\nenabled = false\n"))
                 for n, port in enumerate(ports)]
    barrier = threading.Barrier(RACERS)

    def race(index: int) -> tuple[int, str]:
        with httpx.Client(base_url=f"http://127.0.0.1:{ports[index % 2]}/api/v1",
                          timeout=60) as http:
            barrier.wait()
            status, body, _ = redeem(http, headers[index], codes[0].display)
        return status, body.get("code", "ok")

    try:
        with ThreadPoolExecutor(RACERS) as pool:
            answers = list(pool.map(race, range(RACERS)))
    finally:
        for process in processes:
            stop_backend(process)
    assert sorted(answers) == [(200, "ok")] + [(409, "voucher_redeemed")] * (RACERS - 1)
    with backend.db.read() as session:
        credited = session.scalar(select(func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "voucher_redemption"))
        assert credited == 1
        winners = session.scalars(select(Account.balance).join(User).where(
            User.username.in_(users), Account.kind == AccountKind.USER_PERSONAL)).all()
    assert sorted(winners) == [Decimal("5.00")]


def test_an_expired_voucher_is_refused_with_its_date_and_its_breakage_posted_once(
        backend: Backend) -> None:
    batch, codes = make_batch(backend.db, count=4, sold=3)
    status, _body, _ = redeem(backend.client, backend.headers(user="bob"), codes[0].display)
    assert status == 200
    revenue = _balance(backend, AccountKind.REVENUE)
    yesterday = vouchers.today(None) - timedelta(days=1)
    with backend.db.write() as session:  # the batch's last day was yesterday
        session.execute(update(VoucherBatch).where(VoucherBatch.public_id == batch)
                        .values(expires_on=yesterday))
    status, body, _ = redeem(backend.client, backend.headers(user="bob"), codes[1].display)
    assert status == 410 and body["code"] == "voucher_expired"
    assert body["expires_on"] == yesterday.isoformat()
    first = expire_vouchers(backend.db, actor="test")
    assert [(b.batch, b.count, b.amount) for b in first] == [(batch, 2, Decimal("10.00"))]
    assert expire_vouchers(backend.db, actor="test") == []
    assert _balance(backend, AccountKind.REVENUE) == revenue + Decimal("10.00")
    with backend.db.read() as session:
        [row] = stats(session, public_id=batch)
        audits = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "voucher.expire", AuditEntry.subject == batch))
    assert (row.issued, row.sold, row.redeemed, row.expired, row.liability) == (
        4, 3, 1, 3, Decimal("0.00"))  # 2 broken + 1 in stock past its day
    assert audits == 1
    status, body, _ = redeem(backend.client, backend.headers(user="bob"), codes[2].display)
    assert status == 410 and body["code"] == "voucher_expired"


def test_the_last_day_is_still_redeemable(backend: Backend) -> None:
    batch, codes = make_batch(backend.db, count=1, sold=1)
    with backend.db.write() as session:
        session.execute(update(VoucherBatch).where(VoucherBatch.public_id == batch)
                        .values(expires_on=vouchers.today(None)))
    assert expire_vouchers(backend.db, actor="test") == []
    status, _body, _ = redeem(backend.client, backend.headers(user="bob"), codes[0].display)
    assert status == 200


def test_revocation_refunds_or_forfeits_sold_vouchers_and_needs_the_choice(
        backend: Backend) -> None:
    batch, codes = make_batch(backend.db, count=10, sold=6)
    cash = _balance(backend, AccountKind.CASH_DRAWER)
    revenue = _balance(backend, AccountKind.REVENUE)
    with backend.db.write() as session, pytest.raises(LedgerError) as refused:
        revoke(session, batch, serials=[5, 6, 7], sold_vouchers=None, reason="lost",
               actor="test")
    assert refused.value.code == "voucher_sold_option_required"
    with backend.db.write() as session:  # unsold only: no choice needed, no posting
        done = revoke(session, batch, serials=[8, 9], sold_vouchers=None, reason="damaged",
                      actor="test")
    assert (done.unsold, done.amount) == (2, Decimal("0.00"))
    with backend.db.write() as session:
        done = revoke(session, batch, serials=[1, 2], sold_vouchers="refund",
                      reason="refunded at the desk", actor="test")
    assert (done.refunded, done.amount) == (2, Decimal("10.00"))
    assert _balance(backend, AccountKind.CASH_DRAWER) == cash + Decimal("10.00")
    with backend.db.write() as session:
        done = revoke(session, batch, serials=None, sold_vouchers="forfeit",
                      reason="stolen stock", actor="test")
    assert (done.unsold, done.forfeited, done.amount) == (2, 4, Decimal("20.00"))
    assert _balance(backend, AccountKind.REVENUE) == revenue + Decimal("20.00")
    status, body, _ = redeem(backend.client, backend.headers(user="bob"), codes[3].display)
    assert status == 410 and body["code"] == "voucher_revoked"
    with backend.db.read() as session:
        actions = session.scalars(select(AuditEntry.details).where(
            AuditEntry.action == "voucher.revoke", AuditEntry.subject == batch)
            .order_by(AuditEntry.id)).all()
    assert [a["serials"] for a in actions if a] == ["8-9", "1-2", "all"]


def test_selling_takes_the_next_serials_in_stock_and_refuses_more_than_there_are(
        backend: Backend) -> None:
    batch, _codes = make_batch(backend.db, count=5, sold=2, payment="invoice")
    assert _balance(backend, AccountKind.VOUCHER_RECEIVABLE) <= Decimal("-10.00")
    with backend.db.write() as session:
        sale = vouchers.sell(session, batch, 2, "cash", "desk", actor="test")
    assert (sale.first_serial, sale.last_serial) == (3, 4)
    with backend.db.write() as session, pytest.raises(LedgerError) as short:
        vouchers.sell(session, batch, 2, "cash", "desk", actor="test")
    assert short.value.code == "voucher_stock_short" and "1 voucher(s) in stock" in \
        short.value.detail


def test_the_export_token_gives_the_codes_exactly_once(backend: Backend) -> None:
    with backend.db.write() as session:
        created = vouchers.create_batch(
            session, SECRET, value=Decimal("2.00"), currency="EUR", count=50,
            expires_on=vouchers.today(None) + timedelta(days=9), prefix="X", note="",
            actor="test")
    assert created.export_token is not None
    with backend.db.write() as session, pytest.raises(LedgerError) as wrong:
        vouchers.export_codes(session, SECRET, created.batch.public_id, "not-the-token", "t")
    assert wrong.value.code == "voucher_export_token_invalid"
    with backend.db.write() as session:
        _batch, codes = vouchers.export_codes(session, SECRET, created.batch.public_id,
                                              created.export_token, "test")
    assert codes == created.codes
    with backend.db.read() as session:
        batch = session.scalar(select(VoucherBatch).where(
            VoucherBatch.public_id == created.batch.public_id))
        assert batch is not None and batch.export_blob is None
    with backend.db.write() as session, pytest.raises(LedgerError) as used:
        vouchers.export_codes(session, SECRET, created.batch.public_id, created.export_token,
                              "test")
    assert used.value.code == "voucher_export_used"


def test_no_plain_code_is_stored(backend: Backend) -> None:
    _batch, codes = make_batch(backend.db, count=20)
    dump = "\n".join(backend.db.engine.raw_connection().driver_connection.iterdump()) \
        if backend.db.engine.dialect.name == "sqlite" else None
    with backend.db.read() as session:
        hashes = set(session.scalars(select(Voucher.code_hash)))
    for code in codes:
        assert vouchers.code_hash(SECRET, code.body) in hashes
        if dump is not None:
            assert code.body not in dump


def test_the_invariant_catches_a_liability_that_is_not_what_is_redeemable(
        backend: Backend) -> None:
    make_batch(backend.db, count=2, sold=2)
    with backend.db.write() as session:  # a sale posted without marking vouchers sold
        liability = ledger.get_account(session, AccountKind.VOUCHER_LIABILITY, "EUR")
        drawer = ledger.get_account(session, AccountKind.CASH_DRAWER, "EUR")
        ledger.post(session, LedgerTransaction(kind="voucher_sale", description="bad"),
                    [(liability, Decimal("5.00")), (drawer, Decimal("-5.00"))])
    with backend.db.read() as session:
        report = check_invariants(session)
    assert not report.ok
    assert report.voucher_liability_mismatches == [
        f"voucher_liability:EUR: balance {_balance(backend, AccountKind.VOUCHER_LIABILITY)}, "
        f"redeemable vouchers {_balance(backend, AccountKind.VOUCHER_LIABILITY) - 5}"]
    with backend.db.write() as session:  # put it right, for the conftest's own check
        ledger.post(session, LedgerTransaction(kind="adjustment", description="undo"),
                    [(liability, Decimal("-5.00")), (drawer, Decimal("5.00"))])


def test_the_demo_batch_is_sold_and_its_codes_shown_until_redeemed(backend: Backend) -> None:
    shown = demo_voucher_codes(backend.db)
    assert len(shown) == 3 and all(code.startswith(f"{DEMO_BATCH}-") for code in shown)
    status, body, _ = redeem(backend.client, backend.headers(user="bob"), shown[0])
    assert status == 200 and body["voucher"]["batch"] == DEMO_BATCH
    assert body["credited"] == "2.00"
    assert demo_voucher_codes(backend.db) == [*shown[1:], demo_voucher_codes(backend.db)[2]]
    assert shown[0] not in demo_voucher_codes(backend.db, limit=20)


def test_the_server_posts_breakage_on_its_schedule_once_with_two_processes(
        backend: Backend, tmp_path: Path) -> None:
    batch, _codes = make_batch(backend.db, count=5, sold=5)
    with backend.db.write() as session:
        session.execute(update(VoucherBatch).where(VoucherBatch.public_id == batch)
                        .values(expires_on=vouchers.today(None) - timedelta(days=1)))
    url = backend.db.engine.url.render_as_string(hide_password=False)
    schedule = "[refill]\nenabled = false\n\n[vouchers]\nexpire_check_interval_s = 1\n"
    processes = [start_backend(write_config(tmp_path / f"b{n}.toml", url, free_port(),
                                            schedule)) for n in range(2)]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with backend.db.read() as session:
                broken = session.scalar(select(func.count()).select_from(Voucher).where(
                    Voucher.broken_at.is_not(None)))
            if broken == 5:
                break
            time.sleep(0.2)
        time.sleep(2.5)  # more ticks of both schedules: nothing left to post
    finally:
        for process in processes:
            stop_backend(process)
    with backend.db.read() as session:
        postings = session.scalars(select(LedgerTransaction.description).where(
            LedgerTransaction.kind == "voucher_breakage")).all()
        actors = session.scalars(select(AuditEntry.actor).where(
            AuditEntry.action == "voucher.expire")).all()
    assert len(postings) == 1 and "5 voucher(s)" in postings[0]
    assert actors == ["scheduler"]
