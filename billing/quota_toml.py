"""Quota policies from TOML text; the caller reads the file and passes its name.

Layout::

    [quota]
    name = "Students"                  # required
    currency = "EUR"                   # required
    scope = "group"                    # default | group | user
    target = "students"                # required unless scope is default
    allocation = "10.00"               # required, given at each refill
    carry_over = "capped"              # none | capped | unlimited
    carry_over_cap = "20.00"           # required with capped, refused otherwise
    consumption_order = "virtual_first"  # or personal_first
    overdraft_limit = "0.00"

    [quota.refill]
    schedule = "monthly"               # daily | weekly | monthly | term
    day = 1                            # monthly: 1..31 (31 = last day of the month)
    weekday = "monday"                 # weekly
    term_dates = [2026-09-01, 2027-01-11]  # term
"""

from __future__ import annotations

from typing import Any

from billing.config_errors import MISSING, Reader
from billing.money import MINOR_UNITS, Money, MoneyError
from billing.pricelist import Scope, ScopeKind
from billing.quotas import (
    WEEKDAYS,
    CarryOver,
    ConsumptionOrder,
    QuotaPolicy,
    RefillKind,
    RefillSchedule,
)

_QUOTA = {"name", "currency", "scope", "target", "allocation", "carry_over", "carry_over_cap",
          "consumption_order", "overdraft_limit", "refill"}
_REFILL = {"schedule", "day", "weekday", "term_dates"}
_ONLY_FOR = {"day": RefillKind.MONTHLY, "weekday": RefillKind.WEEKLY,
             "term_dates": RefillKind.TERM}


def load_quota_policy(text: str, filename: str) -> QuotaPolicy:
    """Parse and validate one quota policy; raises ConfigError listing every problem."""
    r = Reader(text, filename)
    r.check_keys(r.root, "", {"quota"})
    q = r.table(r.root, "quota", "", required=True) or {}
    r.check_keys(q, "quota", _QUOTA)
    name = r.get(q, "name", "quota", r.text)
    currency = q.get("currency")
    if currency not in MINOR_UNITS:
        r.problem("quota.currency", q.get("currency", MISSING),
                  "must be an ISO 4217 code, one of " + ", ".join(MINOR_UNITS))
        currency = None

    def money(key: str, required: bool) -> Money | None:
        if key not in q and not required:
            return None
        amount = r.get(q, key, "quota", r.price)
        if amount is None or currency is None:
            return None
        try:
            return Money(amount, currency)
        except MoneyError:
            r.problem(f"quota.{key}", q[key], f"has more decimals than {currency} allows")
            return None

    allocation = money("allocation", required=True)
    carry = r.get(q, "carry_over", "quota", r.choice(CarryOver), CarryOver.NONE)
    cap = money("carry_over_cap", required=False)
    if carry is CarryOver.CAPPED and "carry_over_cap" not in q:
        r.problem("quota.carry_over_cap", MISSING, 'required when carry_over = "capped"')
    if carry is not CarryOver.CAPPED and "carry_over_cap" in q:
        r.problem("quota.carry_over_cap", q["carry_over_cap"],
                  'is only allowed when carry_over = "capped"')
    order = r.get(q, "consumption_order", "quota", r.choice(ConsumptionOrder),
                  ConsumptionOrder.VIRTUAL_FIRST)
    overdraft = money("overdraft_limit", required=False)
    scope = _scope(r, q)
    schedule = _schedule(r, q)
    r.finish()
    assert name and allocation and carry and order and scope and schedule  # no problems
    return QuotaPolicy(name, allocation, schedule, carry, cap, order, overdraft, scope)


def _scope(r: Reader, q: dict[str, Any]) -> Scope | None:
    allowed = {ScopeKind.DEFAULT.value, ScopeKind.GROUP.value, ScopeKind.USER.value}
    kind = q.get("scope", "default")
    if kind not in allowed:
        r.problem("quota.scope", kind, 'must be one of "default", "group", "user"')
        return None
    if kind == "default":
        if "target" in q:
            r.problem("quota.target", q["target"], 'is only allowed when scope is not "default"')
            return None
        return Scope(ScopeKind.DEFAULT)
    target = r.get(q, "target", "quota", r.text)
    return Scope(ScopeKind(kind), target) if target else None


def _schedule(r: Reader, q: dict[str, Any]) -> RefillSchedule | None:
    table = r.table(q, "refill", "quota", required=True)
    if table is None:
        return None
    r.check_keys(table, "quota.refill", _REFILL)
    kind = r.get(table, "schedule", "quota.refill", r.choice(RefillKind))
    if kind is None:
        return None
    for key, needs in _ONLY_FOR.items():
        if key in table and kind is not needs:
            r.problem(f"quota.refill.{key}", table[key],
                      f'is only allowed with schedule = "{needs.value}"')
    if kind is RefillKind.MONTHLY:
        day = table.get("day", 1)
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 31:
            r.problem("quota.refill.day", day, "must be a day of the month, 1..31")
            return None
        return RefillSchedule(kind, day=day)
    if kind is RefillKind.WEEKLY:
        weekday = table.get("weekday", "monday")
        if weekday not in WEEKDAYS:
            r.problem("quota.refill.weekday", weekday, "must be one of " + ", ".join(WEEKDAYS))
            return None
        return RefillSchedule(kind, weekday=WEEKDAYS.index(weekday))
    if kind is RefillKind.TERM:
        return _term(r, table)
    return RefillSchedule(kind)


def _term(r: Reader, table: dict[str, Any]) -> RefillSchedule | None:
    raw = table.get("term_dates")
    if not isinstance(raw, list) or not raw:
        r.problem("quota.refill.term_dates", raw if raw is not None else MISSING,
                  "must be a non-empty array of TOML dates such as [2026-09-01, 2027-01-11]")
        return None
    days = [r.day(value, f"quota.refill.term_dates[{i}]") for i, value in enumerate(raw)]
    if any(d is None for d in days):
        return None
    clean = [d for d in days if d is not None]
    if clean != sorted(set(clean)):
        r.problem("quota.refill.term_dates", raw, "must be increasing dates without repeats")
        return None
    return RefillSchedule(RefillKind.TERM, term_dates=tuple(clean))
