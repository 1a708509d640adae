"""Low balance: one mail when the available credit falls below the threshold, then none
until it rose above threshold + margin (hysteresis); holds count; nothing when off."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from notify_user_helpers import (
    adjust,
    charge,
    mails,
    notify_config,
    rendered,
    seeded,
    terminal_id,
    user,
)
from sqlalchemy import func, select

from backend import ledger
from backend.db import Database
from backend.models import Notification, UserNotificationSettings

LOW = {"threshold": "5.00", "margin": "2.00"}


def test_down_up_down_gives_exactly_two_mails(db: Database) -> None:
    seeded(db, notify_config(db, low_balance=LOW))  # alice: 15.00
    charge(db, "alice", "11.00")  # 4.00: below 5.00, the first mail
    charge(db, "alice", "0.50")  # 3.50: still below, no second mail
    assert len(mails(db, "low_balance")) == 1
    adjust(db, "alice", "3.00")  # 6.50: above 5.00 but not above 5.00 + 2.00
    charge(db, "alice", "2.00")  # 4.50: down again, but never re-armed
    assert len(mails(db, "low_balance")) == 1
    adjust(db, "alice", "3.00")  # 7.50: above the margin, armed again
    charge(db, "alice", "3.00")  # 4.50: the second mail
    found = mails(db, "low_balance")
    assert [row.context["balance"] for row in found] == ["4.00", "4.50"]
    assert {row.to_address for row in found} == {"alice@example.org"}


def test_the_mail_in_the_users_language_with_how_to_top_up(db: Database) -> None:
    config = notify_config(db, low_balance=LOW)
    seeded(db, config)
    charge(db, "alice", "11.00")
    charge(db, "bob", "1.00")  # bob: 2.00 -> 1.00
    alice, bob = mails(db, "low_balance")
    french = rendered(alice)
    assert alice.language == "fr"
    # (the renderer folds the subject's white space, the no-break space included)
    assert "4,00 €" in french.subject and "5,00\u00a0€" in french.text
    assert "à la caisse" in french.text and "à la caisse" in french.html
    english = rendered(bob)
    assert "€1.00" in english.subject and "at the cash desk" in english.text


def test_top_up_address_when_the_site_has_one(db: Database) -> None:
    config = notify_config(db, low_balance=LOW).model_copy(update={
        "payments": notify_config(db).payments.model_copy(
            update={"public_base_url": "https://print.example.org"})})
    seeded(db, config)
    charge(db, "bob", "1.00")
    [row] = mails(db, "low_balance")
    assert row.context["top_up_url"] == "https://print.example.org/me"
    mail = rendered(row)
    assert "https://print.example.org/me" in mail.text
    assert 'href="https://print.example.org/me"' in mail.html


def test_an_open_hold_counts_and_its_release_rearms(db: Database) -> None:
    seeded(db, notify_config(db, low_balance=LOW))
    with db.write() as session:
        hold = ledger.authorise(session, user(session, "alice"), terminal_id(session), "EUR",
                                Decimal("12.00"), "poster.pdf", None)
    [row] = mails(db, "low_balance")
    assert row.context["balance"] == "3.00"  # 15.00 - 12.00 held
    with db.write() as session:
        ledger.void(session, hold.id, terminal_id(session))
    charge(db, "alice", "11.00")
    assert len(mails(db, "low_balance")) == 2


def test_a_rolled_back_charge_records_nothing(db: Database) -> None:
    seeded(db, notify_config(db, low_balance=LOW))
    with pytest.raises(RuntimeError), db.write() as session:
        where = terminal_id(session)
        hold = ledger.authorise(session, user(session, "alice"), where, "EUR",
                                Decimal("11.00"), "report.pdf", None)
        ledger.capture(session, hold.id, where, "EUR", Decimal("11.00"), "virtual_first")
        raise RuntimeError("the printer caught fire")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 0
        assert session.scalar(select(func.count()).select_from(UserNotificationSettings)) == 0


def test_the_users_own_threshold_and_switch(db: Database) -> None:
    seeded(db, notify_config(db, low_balance=LOW))
    with db.write() as session:
        session.add(UserNotificationSettings(user_id=user(session, "alice").id,
                                             low_balance_threshold=Decimal("14.50")))
        session.add(UserNotificationSettings(user_id=user(session, "bob").id,
                                             low_balance_enabled=False))
    charge(db, "alice", "1.00")  # 14.00 < 14.50: alice's own threshold
    charge(db, "bob", "1.50")  # 0.50 < 5.00, but bob turned it off
    [row] = mails(db, "low_balance")
    assert (row.to_address, row.context["threshold"]) == ("alice@example.org", "14.50")


@pytest.mark.parametrize("notifications", [{"enabled": False},
                                           {"low_balance": {**LOW, "enabled": False}}])
def test_disabled_records_nothing(db: Database, notifications: dict[str, object]) -> None:
    settings: dict[str, object] = {"low_balance": LOW, **notifications}
    seeded(db, notify_config(db, **settings))  # type: ignore[arg-type]
    charge(db, "alice", "11.00")
    assert mails(db, "low_balance") == []


def test_terminals_charging_at_once_send_one_mail(db: Database) -> None:
    """Four kiosks charge alice at the same moment, across the threshold: the rules run
    under her row lock, so exactly one mail and one settings row."""
    seeded(db, notify_config(db, low_balance=LOW, transactions={"default": True}))
    barrier = threading.Barrier(4)

    def one(_: int) -> int:
        barrier.wait()
        return charge(db, "alice", "3.00")  # 15.00 -> 12, 9, 6, 3 in some order

    with ThreadPoolExecutor(4) as pool:
        assert len(set(pool.map(one, range(4)))) == 4
    assert [row.context["balance"] for row in mails(db, "low_balance")] == ["3.00"]
    alerts = mails(db, "transactions")
    assert sorted(line["amount"] for row in alerts for line in row.context["lines"]) == [
        "-3.00"] * 4
    assert len(alerts) == 2  # one at once, the other three grouped
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(UserNotificationSettings)) == 1
