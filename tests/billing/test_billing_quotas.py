"""Quotas: refill schedules and carry-over over a simulated year; the allow/deny decision."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from billing import (
    Balances,
    CarryOver,
    ConsumptionOrder,
    Money,
    QuotaPolicy,
    Reason,
    RefillKind,
    RefillSchedule,
    Scope,
    ScopeKind,
    decide,
    select_policy,
)


def eur(text: str) -> Money:
    return Money.of(text, "EUR")


MONTHLY = RefillSchedule(RefillKind.MONTHLY, day=1)


def policy(
    carry: CarryOver = CarryOver.NONE,
    cap: str | None = None,
    *,
    consumption_order: ConsumptionOrder = ConsumptionOrder.VIRTUAL_FIRST,
    overdraft_limit: Money | None = None,
) -> QuotaPolicy:
    return QuotaPolicy("p", eur("10.00"), MONTHLY, carry, eur(cap) if cap else None,
                       consumption_order, overdraft_limit)


def test_schedules_over_2026() -> None:
    start, end = date(2025, 12, 31), date(2026, 12, 31)
    assert len(RefillSchedule(RefillKind.DAILY).dates_between(start, end)) == 365
    mondays = RefillSchedule(RefillKind.WEEKLY, weekday=0).dates_between(start, end)
    assert len(mondays) == 52 and mondays[0] == date(2026, 1, 5)
    assert all(d.weekday() == 0 for d in mondays)
    firsts = MONTHLY.dates_between(start, end)
    assert [d.month for d in firsts] == list(range(1, 13)) and {d.day for d in firsts} == {1}
    ends = RefillSchedule(RefillKind.MONTHLY, day=31).dates_between(start, end)
    assert ends[1] == date(2026, 2, 28) and ends[3] == date(2026, 4, 30)
    assert all((d + timedelta(days=1)).day == 1 for d in ends)
    terms = RefillSchedule(RefillKind.TERM, term_dates=(date(2025, 9, 1), date(2026, 1, 5),
                                                        date(2026, 9, 1), date(2027, 1, 4)))
    assert terms.dates_between(start, end) == (date(2026, 1, 5), date(2026, 9, 1))


def simulate_year(quota: QuotaPolicy, spend_per_month: dict[int, str]) -> list[Money]:
    """Run the scheduler daily through 2026, spending on the 20th; balance at each month end."""
    virtual, last = eur("0.00"), date(2025, 12, 31)
    ends = []
    day = date(2026, 1, 1)
    while day.year == 2026:
        virtual, _ = quota.catch_up(virtual, last, day)
        last = day
        if day.day == 20 and day.month in spend_per_month:
            virtual = virtual - min(virtual, eur(spend_per_month[day.month]))
        if (day + timedelta(days=1)).day == 1:
            ends.append(virtual)
        day += timedelta(days=1)
    return ends


def test_year_without_carry_over_resets_each_month() -> None:
    ends = simulate_year(policy(), {3: "4.00"})
    assert ends[2] == eur("6.00")
    assert set(ends[:2] + ends[3:]) == {eur("10.00")}


def test_year_with_capped_carry_over() -> None:
    # Nothing spent until June: 10, 20, 30, then capped at 20 carried + 10 = 30.
    ends = simulate_year(policy(CarryOver.CAPPED, "20.00"), {6: "28.00", 7: "5.00"})
    assert ends[:5] == [eur("10.00"), eur("20.00"), eur("30.00"), eur("30.00"), eur("30.00")]
    assert ends[5] == eur("2.00")              # June: 20 + 10 - 28
    assert ends[6] == eur("7.00")              # July: 2 + 10 - 5
    assert ends[7] == eur("17.00")             # August: 7 + 10
    assert ends[11] == eur("30.00")            # the cap holds to December


def test_year_with_unlimited_carry_over() -> None:
    ends = simulate_year(policy(CarryOver.UNLIMITED), {})
    assert ends[-1] == eur("120.00")


def test_late_scheduler_catches_up_as_if_on_time() -> None:
    quota = policy(CarryOver.CAPPED, "15.00")
    on_time = simulate_year(quota, {})[-1]
    late, due = quota.catch_up(eur("0.00"), date(2025, 12, 31), date(2026, 12, 31))
    assert len(due) == 12 and late == on_time == eur("25.00")


def test_virtual_first_then_personal() -> None:
    d = decide(eur("3.00"), Balances(eur("2.00"), eur("5.00")), policy())
    assert (d.allowed, d.reason, d.from_virtual, d.from_personal) == (
        True, Reason.ALLOWED, eur("2.00"), eur("1.00"))


def test_personal_first_when_configured() -> None:
    quota = policy(consumption_order=ConsumptionOrder.PERSONAL_FIRST)
    d = decide(eur("3.00"), Balances(eur("2.00"), eur("1.00")), quota)
    assert (d.from_personal, d.from_virtual) == (eur("1.00"), eur("2.00"))


def test_denied_says_why_and_how_much_is_missing() -> None:
    d = decide(eur("7.50"), Balances(eur("2.00"), eur("5.00")), policy())
    assert not d.allowed and d.reason is Reason.INSUFFICIENT_CREDIT
    assert d.missing == eur("0.50")
    assert d.from_virtual == d.from_personal == eur("0.00")


def test_overdraft_limit_extends_personal_credit_only() -> None:
    quota = policy(overdraft_limit=eur("5.00"))
    d = decide(eur("6.00"), Balances(eur("0.00"), eur("2.00")), quota)
    assert d.allowed and d.reason is Reason.ALLOWED_ON_OVERDRAFT and d.from_personal == eur("6.00")
    over = decide(eur("7.01"), Balances(eur("0.00"), eur("2.00")), quota)
    assert not over.allowed and over.missing == eur("0.01")
    already = decide(eur("1.00"), Balances(eur("0.00"), eur("-4.50")), quota)
    assert not already.allowed and already.missing == eur("0.50")


def test_overdraft_is_used_after_virtual_even_with_personal_first() -> None:
    quota = policy(consumption_order=ConsumptionOrder.PERSONAL_FIRST,
                   overdraft_limit=eur("5.00"))
    d = decide(eur("4.00"), Balances(eur("3.00"), eur("0.50")), quota)
    assert (d.from_personal, d.from_virtual, d.reason) == (eur("1.00"), eur("3.00"),
                                                         Reason.ALLOWED_ON_OVERDRAFT)


def test_negative_cost_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        decide(eur("-1.00"), Balances(eur("1.00"), eur("1.00")), policy())


def test_policy_selection_user_then_group_then_default() -> None:
    base = policy()
    from dataclasses import replace
    group = replace(base, name="staff", scope=Scope(ScopeKind.GROUP, "staff"))
    user = replace(base, name="alice", scope=Scope(ScopeKind.USER, "alice"))
    policies = [base, group, user]
    assert select_policy(policies, "alice", ["staff"]) is user
    assert select_policy(policies, "bob", ["guests", "staff"]) is group
    assert select_policy(policies, "bob", []) is base
    assert select_policy([group], "bob", []) is None


def test_capped_carry_over_needs_a_cap() -> None:
    with pytest.raises(ValueError, match="carry_over_cap"):
        policy(CarryOver.CAPPED)
