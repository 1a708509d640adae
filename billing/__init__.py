"""printkiosk billing: pure pricing, quota and money rules, shared by backend and terminal.

No I/O and no other project package: the backend prices and charges with it, the
terminal estimates with it offline. Typical use::

    from billing import PaperJob, PeriodVolume, load_price_list, price
    plist = load_price_list(path.read_text(), str(path))
    quote = price(PaperJob.simple(mono=12, colour=3), plist, PeriodVolume(mono=900))
    quote.total          # Money("...", "EUR"), rounded once, half-up
    for line in quote.lines: print(line.text(quote.currency))
"""

from billing.config_errors import ConfigError, Problem
from billing.estimates import Alternative, Change, Estimate, estimate
from billing.formatting import format_money
from billing.jobs import Job, PaperJob, PeriodVolume, Print3DJob
from billing.money import Money, MoneyError, minor_units, parse_decimal, round_money
from billing.periods import AccountingPeriods
from billing.pricelist import (
    DEFAULT_SCOPE,
    FunctionPrices,
    PaperRate,
    PriceList,
    Print3DPrices,
    Scope,
    ScopeKind,
    VolumePricing,
)
from billing.pricelist_toml import load_price_list
from billing.pricing import Line, LineKind, PricingError, Quote, price
from billing.quota_toml import load_quota_policy
from billing.quotas import (
    Balances,
    CarryOver,
    ConsumptionOrder,
    Decision,
    QuotaPolicy,
    Reason,
    RefillKind,
    RefillSchedule,
    decide,
    select_policy,
)
from billing.scopes import NoPriceList, PriceBook, PricingContext
from billing.tiers import Tier, TierSlice, split_across_tiers
from billing.units import Colour, DuplexCharging, Function, MediaSize

__all__ = [
    "DEFAULT_SCOPE", "AccountingPeriods", "Alternative", "Balances", "CarryOver", "Change",
    "Colour", "ConfigError", "ConsumptionOrder", "Decision", "DuplexCharging", "Estimate",
    "Function", "FunctionPrices", "Job", "Line", "LineKind", "MediaSize", "Money",
    "MoneyError", "NoPriceList", "PaperJob", "PaperRate", "PeriodVolume", "PriceBook",
    "PriceList", "PricingContext", "PricingError", "Print3DJob", "Print3DPrices", "Problem",
    "QuotaPolicy", "Quote", "Reason", "RefillKind", "RefillSchedule", "Scope", "ScopeKind",
    "Tier", "TierSlice", "VolumePricing", "decide", "estimate", "format_money",
    "load_price_list", "load_quota_policy", "minor_units", "parse_decimal", "price",
    "round_money", "select_policy", "split_across_tiers",
]
