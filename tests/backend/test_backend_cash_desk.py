"""The cash desk's rules (backend.cash_desk*), on SQLite and PostgreSQL: amounts,
methods and the accounts they post to, cash out bounded by personal credit and holds,
job refunds bounded by what remains, voucher sales by range, idempotent operations,
the drawer's expected cash and difference, the search and the card look-up."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from backend_fixtures import SECRET
from sqlalchemy import func, select
from voucher_helpers import make_batch

from backend import cash_desk, ledger
from backend.cash_desk import Clerk, DeskError
from backend.cash_desk_drawer import DrawerError, close_drawer, open_drawer, totals
from backend.cash_desk_search import search_users, user_of_card, wedge_card_number
from backend.db import Database
from backend.demo import seed_demo
from backend.demo_web import seed_demo_web
from backend.migrate import upgrade
from backend.models import (
    Account,
    AccountKind,
    AuditEntry,
    DeskDrawer,
    DeskOperation,
    Terminal,
    User,
    Voucher,
    VoucherBatch,
)
from drivers.cards.normalise import NormalisationRule

EUR = "EUR"


def op() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def desk(db: Database) -> tuple[Database, Clerk, dict[str, int]]:
    upgrade(db.engine)
    seed_demo(db, SECRET, EUR)
    seed_demo_web(db, SECRET)
    with db.read() as session:
        ids = dict(session.execute(select(User.username, User.id)).tuples().all())
    clerk = Clerk(ids["clerk"], "clerk", "web:127.0.0.1")
    open_drawer(db, clerk.user_id, "clerk", EUR, "50.00", clerk.origin)
    return db, clerk, ids


def _balance(db: Database, user_id: int) -> ledger.Balance:
    with db.read() as session:
        user = session.get(User, user_id)
        assert user is not None
        return ledger.balance(session, user, EUR)


def _account(db: Database, kind: str) -> Decimal:
    with db.read() as session:
        return session.scalar(select(Account.balance).where(
            Account.key == ledger.account_key(kind, EUR))) or Decimal("0.00")


def _charge(db: Database, user_id: int, amount: str) -> int:
    """A job charged through the ledger as a kiosk would (hold, then capture)."""
    with db.write() as session:
        user = session.get(User, user_id)
        assert user is not None
        kiosk = session.scalar(select(Terminal))
        assert kiosk is not None
        hold = ledger.authorise(session, user, kiosk.id, EUR, Decimal(amount), "report.pdf",
                                "job-1")
        charge = ledger.capture(session, hold.id, kiosk.id, EUR, Decimal(amount),
                                "virtual_first")
        assert charge is not None
        return charge.id


def test_cash_in_credits_personal_credit_from_the_method_account(desk) -> None:
    db, clerk, ids = desk
    before = _balance(db, ids["bob"])
    cash_desk.cash_in(db, clerk, EUR, operation=op(), user_id=ids["bob"], amount="10.00",
                      method="cash")
    cash_desk.cash_in(db, clerk, EUR, operation=op(), user_id=ids["bob"], amount="3.00",
                      method="cheque")
    cash_desk.cash_in(db, clerk, EUR, operation=op(), user_id=ids["bob"], amount="2.50",
                      method="card_terminal", comment="visa")
    after = _balance(db, ids["bob"])
    assert after.personal_credit - before.personal_credit == Decimal("15.50")
    assert after.virtual_credit == before.virtual_credit
    assert _account(db, AccountKind.CARD_TERMINAL) == Decimal("-2.50")
    with db.read() as session:
        drawer = session.scalar(select(DeskDrawer))
        assert drawer is not None
        counted = totals(session, drawer)
        audit = session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("desk.%"))).all()
    assert (counted.cash_in, counted.cheques, counted.card_terminal) == (
        Decimal("10.00"), Decimal("3.00"), Decimal("2.50"))
    assert counted.expected == Decimal("60.00")  # float + cash only
    assert audit.count("desk.cash_in") == 3


@pytest.mark.parametrize("amount", ["0", "0.00", "-5", "abc", "1.234", "", "1e3", "10000.01",
                                    "NaN"])
def test_bad_amounts_are_refused_and_nothing_is_written(desk, amount: str) -> None:
    db, clerk, ids = desk
    with pytest.raises(DeskError) as refused:
        cash_desk.cash_in(db, clerk, EUR, operation=op(), user_id=ids["bob"], amount=amount,
                          method="cash")
    assert refused.value.field == "amount"
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(DeskOperation)) == 0


def test_an_unknown_method_is_refused(desk) -> None:
    db, clerk, ids = desk
    with pytest.raises(DeskError) as refused:
        cash_desk.cash_in(db, clerk, EUR, operation=op(), user_id=ids["bob"], amount="5",
                          method="bitcoin")
    assert (refused.value.code, refused.value.field) == ("method_invalid", "method")


def test_cash_out_never_more_than_personal_credit_nor_what_holds_block(desk) -> None:
    db, clerk, ids = desk
    alice = ids["alice"]  # 10.00 virtual, 5.00 personal in the demo
    start = _balance(db, alice)
    with pytest.raises(DeskError) as refused:
        cash_desk.cash_out(db, clerk, EUR, operation=op(), user_id=alice,
                           amount=str(start.personal_credit + Decimal("0.01")), reason="left")
    assert refused.value.code == "cash_out_exceeds_credit"
    with db.write() as session:
        kiosk = session.scalar(select(Terminal))
        assert kiosk is not None
        user = session.get(User, alice)
        assert user is not None
        ledger.authorise(session, user, kiosk.id, EUR,
                         start.virtual_credit + Decimal("2.00"), "big job", "j")
    # the open hold blocks all virtual credit and 2.00 of the personal
    payable = start.personal_credit - Decimal("2.00")
    with pytest.raises(DeskError):
        cash_desk.cash_out(db, clerk, EUR, operation=op(), user_id=alice,
                           amount=str(payable + Decimal("0.01")), reason="left")
    with pytest.raises(DeskError) as no_reason:
        cash_desk.cash_out(db, clerk, EUR, operation=op(), user_id=alice, amount="1",
                           reason="  ")
    assert no_reason.value.field == "reason"
    cash_desk.cash_out(db, clerk, EUR, operation=op(), user_id=alice, amount=str(payable),
                       reason="leaving")
    assert _balance(db, alice).personal_credit == Decimal("2.00")
    with db.read() as session:
        drawer = session.scalar(select(DeskDrawer))
        assert drawer is not None
        assert totals(session, drawer).expected == Decimal("50.00") - payable


def test_job_refund_in_part_then_the_rest_never_more(desk) -> None:
    db, clerk, ids = desk
    cash_desk.cash_in(db, clerk, EUR, operation=op(), user_id=ids["bob"], amount="5.00",
                      method="cash")
    charge = _charge(db, ids["bob"], "4.00")
    before = _balance(db, ids["bob"])
    cash_desk.refund_job(db, clerk, EUR, operation=op(), user_id=ids["bob"],
                         charge_id=charge, amount="1.50", reason="paper jam")
    with pytest.raises(DeskError) as refused:
        cash_desk.refund_job(db, clerk, EUR, operation=op(), user_id=ids["bob"],
                             charge_id=charge, amount="2.51", reason="paper jam")
    assert refused.value.code == "refund_exceeds_charge"
    with pytest.raises(DeskError) as other:
        cash_desk.refund_job(db, clerk, EUR, operation=op(), user_id=ids["alice"],
                             charge_id=charge, amount="", reason="jam")
    assert other.value.code == "charge_unknown"
    rest = cash_desk.refund_job(db, clerk, EUR, operation=op(), user_id=ids["bob"],
                                charge_id=charge, amount="", reason="paper jam")
    after = _balance(db, ids["bob"])
    assert (after.virtual_credit + after.personal_credit) - (
        before.virtual_credit + before.personal_credit) == Decimal("4.00")
    with db.read() as session:
        row = session.get(DeskOperation, rest.number)
        assert row is not None and row.amount == Decimal("2.50")


def test_a_replayed_operation_posts_once_and_gives_the_same_receipt(desk) -> None:
    db, clerk, ids = desk
    same = op()
    first = cash_desk.cash_in(db, clerk, EUR, operation=same, user_id=ids["bob"],
                              amount="7.00", method="cash")
    again = cash_desk.cash_in(db, clerk, EUR, operation=same, user_id=ids["bob"],
                              amount="7.00", method="cash")
    assert first.posted and not again.posted and again.number == first.number
    results: list[cash_desk.Receipt] = []
    twin = op()

    def post() -> None:
        results.append(cash_desk.cash_in(db, clerk, EUR, operation=twin, user_id=ids["bob"],
                                          amount="1.00", method="cash"))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.posted for r in results) == [False, True]
    assert len({r.number for r in results}) == 1
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(DeskOperation)) == 2


def test_no_operation_without_an_open_drawer(db: Database) -> None:
    upgrade(db.engine)
    seed_demo(db, SECRET, EUR)
    seed_demo_web(db, SECRET)
    with db.read() as session:
        ids = dict(session.execute(select(User.username, User.id)).tuples().all())
    clerk = Clerk(ids["clerk"], "clerk")
    with pytest.raises(DeskError) as refused:
        cash_desk.cash_in(db, clerk, EUR, operation=op(), user_id=ids["bob"], amount="1",
                          method="cash")
    assert refused.value.code == "drawer_closed"


def test_drawer_close_records_the_difference_and_one_open_drawer_per_clerk(desk) -> None:
    db, clerk, ids = desk
    with pytest.raises(DrawerError):
        open_drawer(db, clerk.user_id, "clerk", EUR, "10", None)
    cash_desk.cash_in(db, clerk, EUR, operation=op(), user_id=ids["bob"], amount="20",
                      method="cash")
    with pytest.raises(DrawerError) as bad:
        close_drawer(db, clerk.user_id, "clerk", "lots", "", None)
    assert bad.value.field == "counted"
    close_drawer(db, clerk.user_id, "clerk", "68.50", "short", "web:127.0.0.1")
    with db.read() as session:
        drawer = session.scalar(select(DeskDrawer))
        assert drawer is not None
        assert (drawer.expected, drawer.counted, drawer.difference) == (
            Decimal("70.00"), Decimal("68.50"), Decimal("-1.50"))
        audit = session.scalar(select(AuditEntry).where(
            AuditEntry.action == "desk.drawer_close"))
        assert audit is not None and audit.details is not None
        assert audit.details["difference"] == "-1.50"
        assert audit.origin == "web:127.0.0.1"
    with pytest.raises(DeskError):
        cash_desk.cash_in(db, clerk, EUR, operation=op(), user_id=ids["bob"], amount="1",
                          method="cash")


def test_vouchers_sold_by_range_into_the_drawer(desk) -> None:
    db, clerk, _ids = desk
    public_id, _codes = make_batch(db, count=10, value="5.00")
    receipt = cash_desk.sell_vouchers(db, clerk, EUR, operation=op(), batch=public_id,
                                      serials="3-5,8")
    with pytest.raises(DeskError) as twice:
        cash_desk.sell_vouchers(db, clerk, EUR, operation=op(), batch=public_id,
                                serials="5-6")
    assert twice.value.code == "voucher_not_in_stock"
    with pytest.raises(DeskError) as outside:
        cash_desk.sell_vouchers(db, clerk, EUR, operation=op(), batch=public_id,
                                serials="9-11")
    assert outside.value.field == "serials"
    with db.read() as session:
        sold = session.scalars(select(Voucher.serial).join(VoucherBatch).where(
            VoucherBatch.public_id == public_id, Voucher.sold_at.is_not(None))
            .order_by(Voucher.serial)).all()
        row = session.get(DeskOperation, receipt.number)
        drawer = session.scalar(select(DeskDrawer))
        assert drawer is not None and row is not None
        assert totals(session, drawer).voucher_sales == Decimal("20.00")
    assert list(sold) == [3, 4, 5, 8]
    assert row.amount == Decimal("20.00")
    rest = cash_desk.sell_vouchers(db, clerk, EUR, operation=op(), batch=public_id,
                                   serials="")
    with db.read() as session:
        row = session.get(DeskOperation, rest.number)
        assert row is not None and row.amount == Decimal("30.00")


def test_search_by_name_username_email_prefix_and_substring(desk) -> None:
    db, _clerk, _ids = desk
    with db.write() as session:
        session.add(User(username="zoe_x", display_name="Zoé 100% Martin",
                         email="ZOE@Example.org", status="disabled"))
    with db.read() as session:
        assert [f.username for f in search_users(session, "MARTIN")] == ["alice", "zoe_x"]
        assert [f.username for f in search_users(session, "bo")] == ["bob"]
        assert [f.username for f in search_users(session, "zoe@ex")] == ["zoe_x"]
        assert [f.username for f in search_users(session, "100%")] == ["zoe_x"]
        assert search_users(session, "_") == []  # a wildcard is a plain character
        assert search_users(session, "ar")[0:1] == []  # 2 letters: a prefix only
        assert search_users(session, "zo")[0].status == "disabled"
        assert search_users(session, "   ") == []


def test_card_lookup_as_typed_and_as_the_kiosk_normalises(desk) -> None:
    db, _clerk, ids = desk
    from backend.models import Card
    from backend.security import card_hash

    with db.write() as session:
        session.add(Card(user_id=ids["carol"], card_hash=card_hash(SECRET, "04A1B2C3")))
    with db.read() as session:
        assert user_of_card(session, SECRET, "1002") == "bob"
        assert user_of_card(session, SECRET, " 1002 \n") == "bob"
        assert user_of_card(session, SECRET, "04:a1:b2:c3") == "carol"
        assert user_of_card(session, SECRET, "4a1b2c3") == "carol"
        assert user_of_card(session, SECRET, "9999") is None
        assert user_of_card(session, SECRET, "") is None


@pytest.mark.parametrize("raw", ["1001", "04A1B2C3", "04:a1:b2:c3", "4a1b2c3", "04-A1-B2",
                                 " 3283265796 ", "0", "deadBEEF00"])
def test_wedge_normalisation_agrees_with_the_kiosk_default_rule(raw: str) -> None:
    assert wedge_card_number(raw) == NormalisationRule().apply(raw)


def test_wedge_normalisation_gives_none_where_the_kiosk_refuses() -> None:
    from drivers.cards.errors import CardNumberError

    for raw in ("alice", "12x4", ""):
        assert wedge_card_number(raw) is None
        with pytest.raises(CardNumberError):
            NormalisationRule().apply(raw)
