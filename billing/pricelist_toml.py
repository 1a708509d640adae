"""Price lists from TOML text. The caller reads the file and passes its name for messages.

Layout (every key optional unless marked)::

    [price_list]
    name = "Campus"            # required
    currency = "EUR"           # required, ISO 4217
    scope = "group"            # default | device_model | device | group | cost_centre | user
    target = "staff"           # required unless scope is default
    effective_from = 2026-09-01
    duplex_charging = "per_side"   # or "per_sheet"

    [print]                    # also [copy], [scan], [fax]
    job_fee = "0.10"
    per_minute = "0.02"
    mono = { A4 = "0.05", A3 = { simplex = "0.10", duplex = "0.08" } }
    colour = { A4 = "0.25" }

    [print3d]
    per_gram = { PLA = "0.05" }
    per_hour = "0.50"
    setup_fee = "1.00"

    [volume]
    functions = ["print", "copy"]
    included = { mono = 500 }
    [[volume.tiers.mono]]
    from = 1
    price = "10"

A rate written as one string is the same price simplex and duplex.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from billing.config_errors import Reader
from billing.money import MINOR_UNITS
from billing.pricelist import (
    FunctionPrices,
    PaperRate,
    PriceList,
    Print3DPrices,
    Scope,
    ScopeKind,
    VolumePricing,
)
from billing.tiers import Tier
from billing.units import PAPER_FUNCTIONS, Colour, DuplexCharging, Function, MediaSize

_TOP = {"price_list", "print3d", "volume"} | {f.value for f in PAPER_FUNCTIONS}
_HEADER = {"name", "currency", "scope", "target", "effective_from", "duplex_charging"}
_FUNCTION = {"job_fee", "per_minute"} | {c.value for c in Colour}
_SIZES = {s.value for s in MediaSize}


def load_price_list(text: str, filename: str) -> PriceList:
    """Parse and validate one price list; raises ConfigError listing every problem."""
    r = Reader(text, filename)
    r.check_keys(r.root, "", _TOP)
    head = r.table(r.root, "price_list", "", required=True) or {}
    r.check_keys(head, "price_list", _HEADER)
    name = r.get(head, "name", "price_list", r.text)
    currency = r.get(head, "currency", "price_list", _currency(r))
    scope = _scope(r, head)
    effective = r.get(head, "effective_from", "price_list", r.day, date(1970, 1, 1))
    charging = r.get(head, "duplex_charging", "price_list", r.choice(DuplexCharging),
                     DuplexCharging.PER_SIDE)
    functions = {}
    for function in PAPER_FUNCTIONS:
        table = r.table(r.root, function.value, "")
        if table is not None:
            functions[function] = _function_prices(r, table, function.value)
    print3d = _print3d(r)
    volume = _volume(r, charging)
    r.finish()
    assert name and currency and scope and effective and charging and volume  # no problems
    return PriceList(name, currency, scope, effective, charging, functions, print3d, volume)


def _currency(r: Reader) -> Any:
    def currency(value: Any, where: str) -> str | None:
        if value in MINOR_UNITS:
            return str(value)
        r.problem(where, value, "must be an ISO 4217 code, one of " + ", ".join(MINOR_UNITS))
        return None
    currency.__doc__ = "an ISO 4217 currency code such as \"EUR\""
    return currency


def _scope(r: Reader, head: dict[str, Any]) -> Scope | None:
    kind = r.get(head, "scope", "price_list", r.choice(ScopeKind), ScopeKind.DEFAULT)
    target = head.get("target")
    if kind is ScopeKind.DEFAULT:
        if target is not None:
            r.problem("price_list.target", target, "is only allowed when scope is not \"default\"")
            return None
        return Scope(ScopeKind.DEFAULT)
    if kind is None:
        return None
    name = r.get(head, "target", "price_list", r.text)
    return Scope(kind, name) if name else None


def _rate(r: Reader, value: Any, where: str) -> PaperRate | None:
    if isinstance(value, dict):
        r.check_keys(value, where, {"simplex", "duplex"})
        simplex = r.get(value, "simplex", where, r.price)
        duplex = r.get(value, "duplex", where, r.price)
        return PaperRate(simplex, duplex) if simplex is not None and duplex is not None else None
    price = r.price(value, where)
    return PaperRate(price, price) if price is not None else None


def _function_prices(r: Reader, table: dict[str, Any], path: str) -> FunctionPrices:
    r.check_keys(table, path, _FUNCTION)
    rates: dict[tuple[Colour, MediaSize], PaperRate] = {}
    for colour in Colour:
        where = f"{path}.{colour.value}"
        sizes = r.table(table, colour.value, path) or {}
        r.check_keys(sizes, where, _SIZES)
        for size in MediaSize:
            if size.value in sizes:
                rate = _rate(r, sizes[size.value], f"{where}.{size.value}")
                if rate is not None:
                    rates[(colour, size)] = rate
    job_fee = r.get(table, "job_fee", path, r.price, Decimal(0)) or Decimal(0)
    per_minute = r.get(table, "per_minute", path, r.price, Decimal(0)) or Decimal(0)
    return FunctionPrices(rates, job_fee, per_minute)


def _print3d(r: Reader) -> Print3DPrices | None:
    table = r.table(r.root, "print3d", "")
    if table is None:
        return None
    r.check_keys(table, "print3d", {"per_gram", "per_hour", "setup_fee"})
    materials = r.table(table, "per_gram", "print3d", required=True) or {}
    per_gram: dict[str, Decimal] = {}
    for material, value in materials.items():
        price = r.price(value, f"print3d.per_gram.{material}")
        if price is not None:
            per_gram[material] = price
    if not materials and "per_gram" in table:
        r.problem("print3d.per_gram", materials, "must price at least one material")
    per_hour = r.get(table, "per_hour", "print3d", r.price, Decimal(0)) or Decimal(0)
    setup = r.get(table, "setup_fee", "print3d", r.price, Decimal(0)) or Decimal(0)
    return Print3DPrices(per_gram, per_hour, setup)


def _volume(r: Reader, charging: DuplexCharging | None) -> VolumePricing | None:
    table = r.table(r.root, "volume", "")
    if table is None:
        return VolumePricing()
    r.check_keys(table, "volume", {"functions", "included", "tiers"})
    functions = _volume_functions(r, table.get("functions", ["print", "copy"]))
    included: dict[Colour, int] = {}
    inc = r.table(table, "included", "volume") or {}
    r.check_keys(inc, "volume.included", {c.value for c in Colour})
    for colour in Colour:
        pages = r.get(inc, colour.value, "volume.included", r.count, 0)
        if pages:
            included[colour] = pages
    tiers: dict[Colour, tuple[Tier, ...]] = {}
    tier_table = r.table(table, "tiers", "volume") or {}
    r.check_keys(tier_table, "volume.tiers", {c.value for c in Colour})
    for colour in Colour:
        if colour.value in tier_table:
            parsed = _tiers(r, tier_table[colour.value], f"volume.tiers.{colour.value}")
            if parsed:
                tiers[colour] = parsed
    if charging is DuplexCharging.PER_SHEET and (tiers or included):
        r.problem("price_list.duplex_charging", "per_sheet",
                  'must be "per_side" when [volume] has tiers or included pages (they count sides)')
        return None
    if functions is None:
        return None
    return VolumePricing(functions, included, tiers)


def _volume_functions(r: Reader, value: Any) -> frozenset[Function] | None:
    words = {f.value: f for f in PAPER_FUNCTIONS}
    if isinstance(value, list) and value and all(v in words for v in value):
        return frozenset(words[v] for v in value)
    r.problem("volume.functions", value,
              "must be a non-empty list of " + ", ".join(f'"{w}"' for w in words))
    return None


def _tiers(r: Reader, value: Any, where: str) -> tuple[Tier, ...] | None:
    if not isinstance(value, list) or not value:
        r.problem(where, value, "must be a non-empty array of tables [[...]] with from and price")
        return None
    tiers: list[Tier] = []
    for index, row in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(row, dict):
            r.problem(at, row, "must be a table with from and price")
            return None
        r.check_keys(row, at, {"from", "price"})
        first = r.get(row, "from", at, r.count)
        price = r.get(row, "price", at, r.price)
        if first is None or price is None:
            return None
        if not tiers and first != 1:
            r.problem(f"{at}.from", first, "must be 1: the first tier starts at the first page")
            return None
        if tiers and first <= tiers[-1].first:
            r.problem(f"{at}.from", first,
                      f"must be greater than the previous tier's from ({tiers[-1].first})")
            return None
        tiers.append(Tier(first, price))
    return tuple(tiers)
