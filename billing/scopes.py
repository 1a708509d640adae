"""Which price list applies to a job: scope precedence, then effective dating.

Precedence, most specific first: user, cost centre, group (the user's groups in the
order given, primary first; staff lists are group lists), device, device model, default.
A person-level choice beats a device-level one because operators use user, group and
cost-centre lists for agreements with people (staff rates, a client's project), while
device and model lists express what a machine costs to run for everyone else. Within
one scope the version in force for a day is the latest whose ``effective_from`` lies in
that day's accounting period or before: a change applies from the start of the period
in which it was made, and earlier periods keep the prices they had.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from billing.periods import AccountingPeriods
from billing.pricelist import DEFAULT_SCOPE, PriceList, Scope, ScopeKind


@dataclass(frozen=True, slots=True)
class PricingContext:
    """Who prints where: every field is optional except that the default always applies."""

    user: str | None = None
    groups: tuple[str, ...] = ()
    cost_centre: str | None = None
    device: str | None = None
    device_model: str | None = None

    def scopes(self) -> Iterator[Scope]:
        """Scopes to try, most specific first, ending with the default."""
        if self.user:
            yield Scope(ScopeKind.USER, self.user)
        if self.cost_centre:
            yield Scope(ScopeKind.COST_CENTRE, self.cost_centre)
        for group in self.groups:
            yield Scope(ScopeKind.GROUP, group)
        if self.device:
            yield Scope(ScopeKind.DEVICE, self.device)
        if self.device_model:
            yield Scope(ScopeKind.DEVICE_MODEL, self.device_model)
        yield DEFAULT_SCOPE


class NoPriceList(LookupError):
    """No list (not even a default) is in force for the day asked."""


class PriceBook:
    """All versions of all scopes' price lists, in one currency."""

    def __init__(self, lists: Iterable[PriceList], periods: AccountingPeriods | None = None):
        self.periods = periods or AccountingPeriods()
        self._by_scope: dict[Scope, list[PriceList]] = {}
        currencies = set()
        for plist in lists:
            versions = self._by_scope.setdefault(plist.scope, [])
            clash = [v for v in versions if v.effective_from == plist.effective_from]
            if clash:
                raise ValueError(
                    f"price lists {clash[0].name!r} and {plist.name!r} are both for {plist.scope} "
                    f"from {plist.effective_from}: give one a later effective_from"
                )
            versions.append(plist)
            currencies.add(plist.currency)
        if len(currencies) > 1:
            raise ValueError(f"a price book has one currency, not {', '.join(sorted(currencies))}")
        for versions in self._by_scope.values():
            versions.sort(key=lambda v: v.effective_from)

    def in_force(self, scope: Scope, day: date) -> PriceList | None:
        """The version of ``scope`` in force on ``day``, or None if none has started yet."""
        period = self.periods.start_of(day)
        started = [
            v for v in self._by_scope.get(scope, ())
            if self.periods.start_of(v.effective_from) <= period
        ]
        return started[-1] if started else None

    def select(self, context: PricingContext, day: date) -> PriceList:
        """The most specific list in force on ``day`` for ``context``."""
        for scope in context.scopes():
            found = self.in_force(scope, day)
            if found is not None:
                return found
        raise NoPriceList(f"no price list is in force on {day}, not even a default one")
