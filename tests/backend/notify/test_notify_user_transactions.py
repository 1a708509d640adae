"""Transaction alerts: opt-in (site default, user choice); a burst gives one mail at once
and one grouped mail at the window's end; a retried capture adds no line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from notify_user_helpers import (
    SECRET,
    adjust,
    charge,
    mails,
    notify_config,
    rendered,
    seeded,
    user,
)
from sqlalchemy import update

from backend import cash_desk, ledger, me_account
from backend.app import create_app
from backend.cash_desk_drawer import open_drawer
from backend.db import Database
from backend.demo import DEMO_TERMINAL_TOKEN, demo_voucher_codes, seed_demo
from backend.models import LedgerTransaction, Notification, UserNotificationSettings, utcnow
from backend.notify import user_rules
from backend.vouchers import Refusal

ALERTS = {"transactions": {"default": True, "group_minutes": 10},
          "low_balance": {"enabled": False}}


def lines(row: Notification) -> list[str]:
    return [line["amount"] for line in row.context["lines"]]


def test_a_burst_gives_one_mail_at_once_and_one_grouped(db: Database) -> None:
    seeded(db, notify_config(db, **ALERTS))
    started = utcnow()
    for amount in ("0.10", "0.20", "0.30", "0.40", "0.50"):  # 5 prints in a minute
        charge(db, "alice", amount)
    first, grouped = mails(db, "transactions")
    assert lines(first) == ["-0.10"]
    assert first.next_attempt_at - started < timedelta(seconds=30)  # at once
    assert lines(grouped) == ["-0.20", "-0.30", "-0.40", "-0.50"]
    assert grouped.next_attempt_at - first.next_attempt_at >= timedelta(minutes=10)
    assert grouped.status == "pending"


def test_the_burst_rendered_in_the_users_language(db: Database) -> None:
    seeded(db, notify_config(db, **ALERTS))
    for amount in ("0.10", "0.20", "0.30", "0.40", "1.50"):
        charge(db, "alice", amount)
    charge(db, "bob", "0.25")
    first, grouped, bobs = mails(db, "transactions")
    assert (first.to_address, grouped.to_address, bobs.to_address) == (
        "alice@example.org", "alice@example.org", "bob@example.org")
    assert lines(first) == ["-0.10"]
    assert lines(grouped) == ["-0.20", "-0.30", "-0.40", "-1.50"]
    french = rendered(grouped)
    for amount in ("-0,20\u00a0€", "-0,30\u00a0€", "-0,40\u00a0€", "-1,50\u00a0€"):
        assert amount in french.text and amount in french.html
    assert french.text.count("Impression") == 4 and "à demo kiosk" in french.text
    assert "Ce n'était pas vous ?" in french.text and "changez votre code PIN" in french.html
    assert "4 opérations" in french.subject
    english = rendered(bobs)
    assert "-€0.25" in english.text and "at demo kiosk" in english.text
    assert "Not you?" in english.text and "Print charge" in english.html


def test_mails_leave_at_least_the_window_apart(db: Database,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    seeded(db, notify_config(db, **ALERTS))
    now = utcnow()

    def at(minutes: float) -> None:
        moment = now + timedelta(minutes=minutes)
        monkeypatch.setattr(user_rules, "utcnow", lambda: moment)

    for minute, amount in ((0, "0.10"), (5, "0.20"), (11, "0.30"), (12, "0.40"),
                           (31, "0.50")):
        at(minute)
        charge(db, "alice", amount)
    rows = mails(db, "transactions")
    assert [lines(row) for row in rows] == [["-0.10"], ["-0.20"], ["-0.30", "-0.40"],
                                            ["-0.50"]]
    due = [row.next_attempt_at - now for row in rows]
    assert due[1] == timedelta(minutes=10)  # the end of the first window
    assert due[2] == timedelta(minutes=20)  # the next window: after the grouped mail's
    assert abs(due[3] - timedelta(minutes=31)) < timedelta(seconds=1)  # quiet: at once


@pytest.mark.parametrize("taken", [{"claim_token": "worker-1"}, {"attempts": 1}])
def test_a_group_the_worker_took_is_not_appended_to(db: Database,
                                                    taken: dict[str, object]) -> None:
    seeded(db, notify_config(db, **ALERTS))
    charge(db, "alice", "0.10")
    charge(db, "alice", "0.20")
    with db.write() as session:  # held by a worker, or tried once (Message-ID fixed)
        session.execute(update(Notification).where(Notification.kind == "transactions")
                        .values(**taken))
    charge(db, "alice", "0.30")
    assert [lines(row) for row in mails(db, "transactions")] == [
        ["-0.10"], ["-0.20"], ["-0.30"]]


def test_every_kind_of_movement_and_its_place(db: Database) -> None:
    seeded(db, notify_config(db, **{**ALERTS, "transactions": {
        "default": True, "group_minutes": 10, "not_you": "Call 4242."}}))
    charge_id = charge(db, "bob", "1.00")
    adjust(db, "bob", "3.00")
    with db.write() as session:
        refunded = session.get(LedgerTransaction, charge_id)
        assert refunded is not None
        ledger.refund(session, refunded, Decimal("0.40"), "jam", actor="clerk:carol")
    first, grouped = mails(db, "transactions")
    assert [(line["what"], line["where"], line["amount"])
            for line in first.context["lines"] + grouped.context["lines"]] == [
        ("charge", "terminal", "-1.00"), ("adjustment", "administration", "3.00"),
        ("refund", "cash_desk", "0.40")]
    text = rendered(grouped).text
    assert "Adjustment" in text and "by the administration" in text
    assert "Refund" in text and "at the cash desk" in text and "Not you? Call 4242." in text


def test_opt_in_default_and_the_users_choice(db: Database) -> None:
    seeded(db, notify_config(db, transactions={"default": False}))
    with db.write() as session:
        session.add(UserNotificationSettings(user_id=user(session, "bob").id,
                                             transactions_enabled=True))
    charge(db, "alice", "0.10")
    charge(db, "bob", "0.10")
    assert [row.to_address for row in mails(db, "transactions")] == ["bob@example.org"]


def test_disabled_notifications_record_nothing(db: Database) -> None:
    seeded(db, notify_config(db, enabled=False, **ALERTS))
    charge(db, "alice", "0.10")
    adjust(db, "alice", "1.00")
    assert mails(db, "transactions") == []


@pytest.fixture
def api(db: Database) -> Iterator[TestClient]:
    config = notify_config(db, **ALERTS)
    app = create_app(config, db, SECRET)
    seed_demo(db, SECRET, "EUR")
    with TestClient(app) as client:
        yield client


def test_a_retried_capture_adds_no_line(api: TestClient, db: Database) -> None:
    terminal = {"Authorization": f"Bearer {DEMO_TERMINAL_TOKEN}"}
    opened = api.post("/api/v1/sessions", headers=terminal,
                      json={"username": "alice", "pin": "1234"})
    assert opened.status_code == 200, opened.text
    with_user = {**terminal, "X-Printkiosk-Session": opened.json()["session"]["token"]}
    for key in ("hold-0001", "hold-0002"):
        held = api.post("/api/v1/holds", headers=with_user, json={
            "idempotency_key": key, "username": "alice", "amount": "1.50",
            "description": "report.pdf", "job_ref": None})
        assert held.status_code == 201, held.text
        body = {"idempotency_key": f"capture-{key}", "amount": "1.20"}
        for _retry in range(3):
            done = api.post(f"/api/v1/holds/{held.json()['hold_id']}/capture",
                            headers=terminal, json=body)
            assert done.status_code == 200, done.text
    # (the seed's credits came first: these captures are grouped after them)
    charges = [line for row in mails(db, "transactions") if row.to_address == "alice@example.org"
               for line in row.context["lines"] if line["what"] == "charge"]
    assert [line["amount"] for line in charges] == ["-1.20", "-1.20"]
    assert len({line["id"] for line in charges}) == 2


def test_the_cash_desk_and_the_web_page_reach_the_rules_too(db: Database) -> None:
    """No caller calls the rules: a cash-in at the desk and a voucher redeemed on /me
    are seen through the hook like a kiosk's charge."""
    config = notify_config(db, **ALERTS)
    seeded(db, config)
    with db.read() as session:
        bob, carol = user(session, "bob").id, user(session, "carol").id
    open_drawer(db, carol, "staff:carol", "EUR", "0.00", None)
    cash_desk.cash_in(db, cash_desk.Clerk(carol, "carol"), "EUR", operation=uuid4().hex,
                      user_id=bob, amount="5.00", method="cash")
    [code] = demo_voucher_codes(db, limit=1)
    redeemed = me_account.redeem_voucher(db, SECRET, config, bob, code, "web:127.0.0.1")
    assert not isinstance(redeemed, Refusal)
    first, grouped = mails(db, "transactions")
    assert [(line["what"], line["where"]) for line in
            first.context["lines"] + grouped.context["lines"]] == [
        ("cash_in", "cash_desk"), ("voucher", "web")]
    text = rendered(grouped).text
    assert "Voucher" in text and "on the web" in text
