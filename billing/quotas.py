"""Quotas: virtual credit given on a schedule, and which credit pays for a job.

Seed 000 ("crédit virtuel"): an administrator allocates free credit to users or groups;
it refills automatically at set intervals and unused credit may carry over to the next
period; a user cannot remove it; when it runs out, personal (paid) credit is used.
Virtual credit is used first unless the policy says otherwise, because it expires or is
capped while personal credit is the user's own money. The overdraft limit applies to
personal credit only: virtual credit is a gift and never goes below zero.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from billing.money import Money, MoneyError
from billing.pricelist import DEFAULT_SCOPE, Scope, ScopeKind


class RefillKind(enum.Enum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    TERM = "term"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class RefillSchedule:
    """When virtual credit is given: every day, a weekday, a day of the month, or term dates.

    A monthly day of 29-31 falls on the last day of shorter months, so "day 31" means
    "the end of every month" as an administrator would expect.
    """

    kind: RefillKind
    weekday: int = 0
    day: int = 1
    term_dates: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), not {self.weekday}")
        if not 1 <= self.day <= 31:
            raise ValueError(f"day of month must be 1..31, not {self.day}")
        if self.kind is RefillKind.TERM and not self.term_dates:
            raise ValueError("a term schedule needs at least one date")
        if list(self.term_dates) != sorted(set(self.term_dates)):
            raise ValueError("term dates must be increasing and distinct")

    def occurs_on(self, day: date) -> bool:
        if self.kind is RefillKind.DAILY:
            return True
        if self.kind is RefillKind.WEEKLY:
            return day.weekday() == self.weekday
        if self.kind is RefillKind.MONTHLY:
            last = calendar.monthrange(day.year, day.month)[1]
            return day.day == min(self.day, last)
        return day in self.term_dates

    def dates_between(self, after: date, until: date) -> tuple[date, ...]:
        """Refill dates strictly after ``after`` and up to ``until`` inclusive, in order."""
        if self.kind is RefillKind.TERM:
            return tuple(d for d in self.term_dates if after < d <= until)
        days = (after + timedelta(days=n) for n in range(1, (until - after).days + 1))
        return tuple(d for d in days if self.occurs_on(d))


class CarryOver(enum.Enum):
    """What happens to unused virtual credit at a refill."""

    NONE = "none"
    CAPPED = "capped"
    UNLIMITED = "unlimited"


class ConsumptionOrder(enum.Enum):
    VIRTUAL_FIRST = "virtual_first"
    PERSONAL_FIRST = "personal_first"


@dataclass(frozen=True)
class QuotaPolicy:
    """Allocation, schedule, carry-over and overdraft for a user, a group or everyone."""

    name: str
    allocation: Money
    schedule: RefillSchedule
    carry_over: CarryOver = CarryOver.NONE
    carry_over_cap: Money | None = None
    consumption_order: ConsumptionOrder = ConsumptionOrder.VIRTUAL_FIRST
    overdraft_limit: Money | None = None
    scope: Scope = DEFAULT_SCOPE

    def __post_init__(self) -> None:
        currency = self.allocation.currency
        if self.allocation.amount < 0:
            raise ValueError(f"allocation cannot be negative: {self.allocation}")
        if (self.carry_over is CarryOver.CAPPED) != (self.carry_over_cap is not None):
            raise ValueError("carry_over_cap is required with capped carry-over, and only then")
        for extra in (self.carry_over_cap, self.overdraft_limit):
            if extra is not None:
                if extra.currency != currency:
                    raise MoneyError(f"{extra} is not in the allocation's currency {currency}")
                if extra.amount < 0:
                    raise ValueError(f"limits cannot be negative: {extra}")
        if self.scope.kind not in (ScopeKind.DEFAULT, ScopeKind.GROUP, ScopeKind.USER):
            raise ValueError(f"a quota applies to everyone, a group or a user, not {self.scope}")

    @property
    def currency(self) -> str:
        return self.allocation.currency

    @property
    def overdraft(self) -> Money:
        return self.overdraft_limit or Money.zero(self.currency)

    def refill(self, virtual: Money) -> Money:
        """Virtual credit right after one refill, from what was left before it."""
        left = max(virtual, Money.zero(self.currency))
        if self.carry_over is CarryOver.NONE:
            carried = Money.zero(self.currency)
        elif self.carry_over is CarryOver.CAPPED:
            assert self.carry_over_cap is not None  # checked in __post_init__
            carried = min(left, self.carry_over_cap)
        else:
            carried = left
        return carried + self.allocation

    def catch_up(
        self, virtual: Money, last_refill: date, today: date
    ) -> tuple[Money, tuple[date, ...]]:
        """Apply every refill due after ``last_refill`` up to ``today``, one by one.

        Refills missed while the scheduler was down are applied in turn, each with its
        carry-over cap, so a late run gives exactly what on-time runs would have.
        """
        due = self.schedule.dates_between(last_refill, today)
        for _ in due:
            virtual = self.refill(virtual)
        return virtual, due


def select_policy(
    policies: Iterable[QuotaPolicy], user: str | None, groups: Sequence[str] = ()
) -> QuotaPolicy | None:
    """The user's own policy, else the first of their groups' (primary first), else default."""
    by_scope = {policy.scope: policy for policy in policies}
    wanted = [Scope(ScopeKind.USER, user)] if user else []
    wanted += [Scope(ScopeKind.GROUP, group) for group in groups]
    wanted.append(DEFAULT_SCOPE)
    return next((by_scope[s] for s in wanted if s in by_scope), None)


@dataclass(frozen=True, slots=True)
class Balances:
    virtual: Money
    personal: Money


class Reason(enum.Enum):
    """Why a charge is allowed or not; stable keys the kiosk translates."""

    ALLOWED = "allowed"
    ALLOWED_ON_OVERDRAFT = "allowed_on_overdraft"
    INSUFFICIENT_CREDIT = "insufficient_credit"


@dataclass(frozen=True)
class Decision:
    """Allowed or not, why, what is missing, and which credit pays (zero when denied)."""

    allowed: bool
    reason: Reason
    missing: Money
    from_virtual: Money
    from_personal: Money


def decide(cost: Money, balances: Balances, policy: QuotaPolicy) -> Decision:
    """Can ``balances`` pay ``cost`` under ``policy``, and from which credit?"""
    zero = Money.zero(policy.currency)
    if cost < zero:
        raise ValueError(f"a cost cannot be negative: {cost}")
    virtual = max(balances.virtual, zero)
    personal_own = max(balances.personal, zero)
    overdraft_room = max(balances.personal + policy.overdraft - personal_own, zero)
    if policy.consumption_order is ConsumptionOrder.VIRTUAL_FIRST:
        sources = [("virtual", virtual), ("personal", personal_own), ("personal", overdraft_room)]
    else:
        sources = [("personal", personal_own), ("virtual", virtual), ("personal", overdraft_room)]
    taken = {"virtual": zero, "personal": zero}
    left = cost
    for name, room in sources:
        part = min(left, room)
        taken[name] += part
        left -= part
    if left > zero:
        return Decision(False, Reason.INSUFFICIENT_CREDIT, left, zero, zero)
    on_overdraft = balances.personal - taken["personal"] < zero
    reason = Reason.ALLOWED_ON_OVERDRAFT if on_overdraft else Reason.ALLOWED
    return Decision(True, reason, zero, taken["virtual"], taken["personal"])
