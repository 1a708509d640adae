"""Random sequences of holds, captures, voids, refunds and adjustments (hypothesis) keep the
ledger's rules: virtual credit never negative, personal never below -overdraft, holds
never more than what was available, and every transaction balanced."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from backend import ledger
from backend.db import Database
from backend.migrate import upgrade
from backend.models import AccountKind, Hold, LedgerTransaction, Terminal, User

CENTS = st.integers(min_value=1, max_value=1500).map(lambda c: Decimal(c) / 100)
STEP = st.one_of(
    st.tuples(st.just("hold"), CENTS),
    st.tuples(st.just("capture"), st.integers(0, 100)),  # percent of the hold
    st.tuples(st.just("void"), st.just(0)),
    st.tuples(st.just("refund"), st.integers(1, 100)),
    st.tuples(st.just("deposit"), CENTS),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=25),
       order=st.sampled_from(["virtual_first", "personal_first"]),
       overdraft=st.sampled_from([Decimal("0.00"), Decimal("2.50")]))
def test_random_sequences_keep_the_rules(tmp_path: Path, steps: list[tuple[str, object]],
                                         order: ledger.ConsumptionOrder,
                                         overdraft: Decimal) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path}/p-{id(steps)}.sqlite3")
    upgrade(db.engine)
    with db.write() as session:
        ledger.ensure_system_accounts(session, "EUR")
        session.add(Terminal(id="t1", name="t1", token_hash="x"))
        user = User(username="u", display_name="U", overdraft_limit=overdraft)
        session.add(user)
        session.flush()
        ledger.credit(session, user, "EUR", kind="refill", amount=Decimal("5.00"),
                      source_kind=AccountKind.QUOTA_FUNDING, description="q", to_virtual=True)
        ledger.credit(session, user, "EUR", kind="deposit", amount=Decimal("3.00"),
                      source_kind=AccountKind.CASH_DRAWER, description="d")
    open_holds: list[str] = []
    charges: list[int] = []
    for action, value in steps:
        with db.write() as session:
            user = session.scalars(select(User)).one()
            try:
                if action == "hold":
                    assert isinstance(value, Decimal)
                    available = ledger.balance(session, user, "EUR").available
                    hold = ledger.authorise(session, user, "t1", "EUR", value, "", None)
                    assert value <= available
                    open_holds.append(hold.id)
                elif action == "capture" and open_holds:
                    assert isinstance(value, int)
                    hold_id = open_holds.pop()
                    held = session.get(Hold, hold_id)
                    assert held is not None
                    amount = (held.amount * value / 100).quantize(Decimal("0.01"))
                    charge = ledger.capture(session, hold_id, "t1", "EUR", amount, order)
                    if charge is not None:
                        charges.append(charge.id)
                elif action == "void" and open_holds:
                    ledger.void(session, open_holds.pop(), "t1")
                elif action == "refund" and charges:
                    assert isinstance(value, int)
                    charge = session.get(LedgerTransaction, charges[-1])
                    assert charge is not None
                    ledger.refund(session, charge, Decimal(value) / 100, "test")
                elif action == "deposit":
                    assert isinstance(value, Decimal)
                    ledger.credit(session, user, "EUR", kind="deposit", amount=value,
                                  source_kind=AccountKind.CASH_DRAWER, description="d")
            except ledger.LedgerError as refused:
                assert refused.code in ("insufficient_funds", "refund_exceeds_charge")
        with db.read() as session:
            user = session.scalars(select(User)).one()
            now = ledger.balance(session, user, "EUR")
            assert now.virtual_credit >= 0
            assert now.personal_credit >= -overdraft
            assert now.available >= 0
            assert ledger.check_invariants(session).ok
    db.dispose()


CREDIT = st.integers(min_value=-500, max_value=3000).map(lambda c: Decimal(c) / 100)


@settings(max_examples=300, deadline=None)
@given(cost=CENTS, virtual=CREDIT.filter(lambda v: v >= 0), personal=CREDIT,
       overdraft=st.sampled_from([Decimal("0.00"), Decimal("2.50"), Decimal("10.00")]),
       order=st.sampled_from(["virtual_first", "personal_first"]))
def test_split_agrees_with_billings_consumption_rule(
        cost: Decimal, virtual: Decimal, personal: Decimal, overdraft: Decimal,
        order: ledger.ConsumptionOrder) -> None:
    """The ledger splits a capture the way billing.decide says it may be paid."""
    from billing import Balances, ConsumptionOrder, Money, QuotaPolicy, RefillKind, decide
    from billing.quotas import RefillSchedule

    policy = QuotaPolicy("check", Money.zero("EUR"), RefillSchedule(RefillKind.MONTHLY),
                         consumption_order=ConsumptionOrder(order),
                         overdraft_limit=Money(overdraft, "EUR"))
    decision = decide(Money(cost, "EUR"),
                      Balances(Money(virtual, "EUR"), Money(personal, "EUR")), policy)
    if decision.allowed:
        assert ledger.split_charge(cost, virtual, personal, order) == (
            decision.from_virtual.amount, decision.from_personal.amount)
