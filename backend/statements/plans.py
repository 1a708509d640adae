"""Client plan files: seed 001's four billing types, validated with clear errors.

A plan file is TOML; every problem is reported with the file and the key path (and the
line for a TOML syntax error), all at once, in billing's ``ConfigError`` shape, so an
administrator fixes a plan in one go. The parsed terms are stored as JSON (decimal
strings) next to the text as uploaded: :func:`terms_of` rebuilds them for pricing.

    [plan]
    name = "ACME 2027"
    currency = "EUR"
    effective_from = 2027-01-01
    type = "simple"            # simple | device_model | tiered | consumable
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from billing import ConfigError, Tier
from billing.config_errors import MISSING, Reader
from billing.tiers import check_tiers


class BillingType(enum.Enum):
    SIMPLE = "simple"
    DEVICE_MODEL = "device_model"
    TIERED = "tiered"
    CONSUMABLE = "consumable"


@dataclass(frozen=True)
class PagePrices:
    """Per-page prices of the simple type (and of each model in the device-model type)."""

    mono: Decimal
    colour: Decimal
    scan: Decimal


@dataclass(frozen=True)
class PlanTerms:
    """What a client pays, whatever the type; only the type's part is filled."""

    name: str
    currency: str
    effective_from: date
    billing_type: BillingType
    monthly_fee: Decimal = Decimal(0)
    prices: PagePrices | None = None
    included_mono: int = 0
    included_colour: int = 0
    models: dict[str, PagePrices] = field(default_factory=dict)
    tiers: dict[str, tuple[Tier, ...]] = field(default_factory=dict)  # mono / colour
    supplies: dict[str, Decimal] = field(default_factory=dict)


def load_plan(text: str, filename: str) -> PlanTerms:
    """Parse and validate a plan file; :class:`billing.ConfigError` lists every problem."""
    reader = Reader(text, filename)
    root = reader.root
    reader.check_keys(root, "", {"plan", *(kind.value for kind in BillingType)})
    head = reader.table(root, "plan", "", required=True) or {}
    reader.check_keys(head, "plan", {"name", "currency", "effective_from", "type"})
    name = reader.get(head, "name", "plan", reader.text)
    currency = reader.get(head, "currency", "plan", _currency(reader))
    effective = reader.get(head, "effective_from", "plan", reader.day)
    kind = reader.get(head, "type", "plan", reader.choice(BillingType))
    for other in BillingType:
        if other is not kind and other.value in root:
            reader.problem(other.value, "[table]",
                           f"is not used by a plan of type {kind and kind.value!r}")
    terms: dict[str, Any] = {}
    if kind is not None:
        body = reader.table(root, kind.value, "", required=True) or {}
        terms = _READERS[kind](reader, body, kind.value)
    reader.finish()
    assert name and currency and effective and kind
    return PlanTerms(name, currency, effective, kind, **terms)


def _currency(reader: Reader) -> Any:
    def currency(value: Any, where: str) -> str | None:
        if isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isupper():
            return value
        reader.problem(where, value, 'must be a three-letter currency code such as "EUR"')
        return None
    return currency


def _prices(reader: Reader, table: dict[str, Any], path: str) -> PagePrices | None:
    mono = reader.get(table, "mono", path, reader.price)
    colour = reader.get(table, "colour", path, reader.price)
    scan = reader.get(table, "scan", path, reader.price, Decimal(0))
    if mono is None or colour is None or scan is None:
        return None
    return PagePrices(mono, colour, scan)


def _simple(reader: Reader, body: dict[str, Any], path: str) -> dict[str, Any]:
    reader.check_keys(body, path, {"mono", "colour", "scan", "monthly_fee", "included_mono",
                                   "included_colour"})
    return {"prices": _prices(reader, body, path),
            "monthly_fee": reader.get(body, "monthly_fee", path, reader.price, Decimal(0)),
            "included_mono": reader.get(body, "included_mono", path, reader.count, 0),
            "included_colour": reader.get(body, "included_colour", path, reader.count, 0)}


def _device_model(reader: Reader, body: dict[str, Any], path: str) -> dict[str, Any]:
    reader.check_keys(body, path, {"mono", "colour", "scan", "monthly_fee", "models"})
    models: dict[str, PagePrices] = {}
    entries = body.get("models", [])
    if not isinstance(entries, list):
        reader.problem(f"{path}.models", entries,
                       "must be an array of tables [[device_model.models]]")
        entries = []
    for index, entry in enumerate(entries):
        where = f"{path}.models[{index}]"
        if not isinstance(entry, dict):
            reader.problem(where, entry, "must be a table with model, mono, colour, scan")
            continue
        reader.check_keys(entry, where, {"model", "mono", "colour", "scan"})
        model = reader.get(entry, "model", where, reader.text)
        prices = _prices(reader, entry, where)
        if model in models:
            reader.problem(f"{where}.model", model, "is priced twice")
        elif model and prices:
            models[model] = prices
    return {"prices": _prices(reader, body, path), "models": models,
            "monthly_fee": reader.get(body, "monthly_fee", path, reader.price, Decimal(0))}


def _tiered(reader: Reader, body: dict[str, Any], path: str) -> dict[str, Any]:
    reader.check_keys(body, path, {"mono", "colour", "monthly_fee"})
    tiers: dict[str, tuple[Tier, ...]] = {}
    for colour in ("mono", "colour"):
        where = f"{path}.{colour}"
        entries = body.get(colour, MISSING)
        if entries is MISSING:
            reader.problem(where, MISSING, f"expected [[{where}]] tables with from and price")
            continue
        if not isinstance(entries, list) or not entries:
            reader.problem(where, entries, f"must be [[{where}]] tables with from and price")
            continue
        found: list[Tier] = []
        for index, entry in enumerate(entries):
            at = f"{where}[{index}]"
            if not isinstance(entry, dict):
                reader.problem(at, entry, "must be a table with from and price")
                continue
            reader.check_keys(entry, at, {"from", "price"})
            first = reader.get(entry, "from", at, reader.count)
            unit = reader.get(entry, "price", at, reader.price)
            if first is not None and unit is not None:
                found.append(Tier(first, unit))
        try:
            check_tiers(found)
        except ValueError as exc:
            reader.problem(where, [tier.first for tier in found], str(exc))
            continue
        tiers[colour] = tuple(found)
    return {"tiers": tiers,
            "monthly_fee": reader.get(body, "monthly_fee", path, reader.price, Decimal(0))}


def _consumable(reader: Reader, body: dict[str, Any], path: str) -> dict[str, Any]:
    reader.check_keys(body, path, {"supplies", "monthly_fee"})
    supplies: dict[str, Decimal] = {}
    entries = body.get("supplies", MISSING)
    if not isinstance(entries, list) or not entries:
        reader.problem(f"{path}.supplies", entries,
                       "must be [[consumable.supplies]] tables with supply and price")
        entries = []
    for index, entry in enumerate(entries):
        where = f"{path}.supplies[{index}]"
        if not isinstance(entry, dict):
            reader.problem(where, entry, "must be a table with supply and price")
            continue
        reader.check_keys(entry, where, {"supply", "price"})
        supply = reader.get(entry, "supply", where, reader.text)
        unit = reader.get(entry, "price", where, reader.price)
        if supply in supplies:
            reader.problem(f"{where}.supply", supply, "is priced twice")
        elif supply and unit is not None:
            supplies[supply] = unit
    return {"supplies": supplies,
            "monthly_fee": reader.get(body, "monthly_fee", path, reader.price, Decimal(0))}


_READERS = {BillingType.SIMPLE: _simple, BillingType.DEVICE_MODEL: _device_model,
            BillingType.TIERED: _tiered, BillingType.CONSUMABLE: _consumable}


def terms_json(terms: PlanTerms) -> dict[str, Any]:
    """The terms as JSON for the ``client_plans.terms`` column (decimals as strings)."""
    def prices(p: PagePrices | None) -> dict[str, str] | None:
        return None if p is None else {"mono": str(p.mono), "colour": str(p.colour),
                                       "scan": str(p.scan)}
    return {"name": terms.name, "currency": terms.currency,
            "effective_from": terms.effective_from.isoformat(),
            "type": terms.billing_type.value, "monthly_fee": str(terms.monthly_fee),
            "prices": prices(terms.prices), "included_mono": terms.included_mono,
            "included_colour": terms.included_colour,
            "models": {name: prices(p) for name, p in terms.models.items()},
            "tiers": {colour: [[t.first, str(t.price)] for t in tiers]
                      for colour, tiers in terms.tiers.items()},
            "supplies": {name: str(unit) for name, unit in terms.supplies.items()}}


def terms_of(stored: dict[str, Any]) -> PlanTerms:
    """Rebuild the terms from the JSON column (written by :func:`terms_json`)."""
    def prices(p: dict[str, str] | None) -> PagePrices | None:
        return None if p is None else PagePrices(Decimal(p["mono"]), Decimal(p["colour"]),
                                                 Decimal(p["scan"]))
    models = {name: prices(p) for name, p in stored["models"].items()}
    return PlanTerms(
        stored["name"], stored["currency"], date.fromisoformat(stored["effective_from"]),
        BillingType(stored["type"]), Decimal(stored["monthly_fee"]), prices(stored["prices"]),
        stored["included_mono"], stored["included_colour"],
        {name: p for name, p in models.items() if p is not None},
        {colour: tuple(Tier(first, Decimal(unit)) for first, unit in tiers)
         for colour, tiers in stored["tiers"].items()},
        {name: Decimal(unit) for name, unit in stored["supplies"].items()})


__all__ = ["BillingType", "ConfigError", "PagePrices", "PlanTerms", "load_plan",
           "terms_json", "terms_of"]
