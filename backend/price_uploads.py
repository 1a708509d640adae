"""Price lists uploaded from the administration console, and the price book every backend
process keeps in step with them.

Seed 001: "toute modification de ces prix prend effet à partir du début de la période
comptable en cours". An upload is stored (``price_list_uploads``, one row per version,
with who and when) with ``effective_from`` set to the start of the current accounting
period, unless the file names a later day. billing's price book already counts a list
from the start of the period containing its ``effective_from``, so the period's volume
tiers are read with the new list from the period's first page; what was charged before
the upload is never re-priced (charges are ledger postings, final when made).

Each process holds a :class:`LivePrices`: the files of ``[pricing] price_lists_dir`` read
at start-up plus every upload, rebuilt when the highest upload id in the database differs
from the one it was built from, so an upload served by one process is used by all.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.audit import record
from backend.config import PricingSettings
from backend.db import Database
from backend.models import PriceListUpload
from backend.pricing import PriceCatalogue, PriceSource, load_catalogue
from billing import (
    AccountingPeriods,
    ConfigError,
    PriceBook,
    PriceList,
    Problem,
    load_price_list,
)
from billing.config_errors import MISSING

MAX_TOML_BYTES = 256 * 1024


class Invalid(Exception):
    """An upload refused: every problem, each with file, key, value and what is allowed."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def effective_from(price_list: PriceList, periods: AccountingPeriods, today: date) -> date:
    """The first day the upload applies: the current period's start, or the file's later
    ``effective_from`` (a list prepared for next period)."""
    start = periods.start_of(today)
    return max(start, price_list.effective_from)


def validate(text: str, filename: str, currency: str) -> PriceList:
    """billing's validation (the messages of start-up and ``printkiosk doctor``), plus
    the site's currency; raises :class:`Invalid`."""
    try:
        price_list = load_price_list(text, filename)
    except ConfigError as exc:
        raise Invalid(exc.problems) from exc
    if price_list.currency != currency:
        raise Invalid((Problem(filename, "price_list.currency", price_list.currency,
                               f"must be the site's currency {currency!r}"),))
    return price_list


def store(session: Session, settings: PricingSettings, *, text: str, filename: str,
          currency: str, actor: str, origin: str | None, today: date) -> PriceListUpload:
    """Validate and keep a new version; audited ``price_list.upload`` with the same
    transaction. The resulting price book must build (one currency, no clash)."""
    if len(text.encode("utf-8")) > MAX_TOML_BYTES:
        raise Invalid((Problem(filename, "", MISSING,
                               f"is larger than {MAX_TOML_BYTES // 1024} KiB"),))
    price_list = validate(text, filename, currency)
    periods = AccountingPeriods(settings.period_start_day)
    row = PriceListUpload(filename=filename, name=price_list.name,
                          scope_kind=price_list.scope.kind.value,
                          scope_target=price_list.scope.target,
                          effective_from=effective_from(price_list, periods, today),
                          toml=text, uploaded_by=actor)
    session.add(row)
    session.flush()
    record(session, actor, "price_list.upload", str(row.id), {
        "filename": filename, "name": row.name, "scope": str(price_list.scope),
        "effective_from": row.effective_from.isoformat()}, origin=origin)
    return row


def versions(session: Session, limit: int = 50) -> list[PriceListUpload]:
    """The uploads, newest first."""
    return list(session.scalars(select(PriceListUpload)
                                .order_by(PriceListUpload.id.desc()).limit(limit)))


def build(base: PriceCatalogue | None, uploads: list[PriceListUpload],
          periods: AccountingPeriods) -> PriceCatalogue | None:
    """The files' lists with the uploads over them: an upload replaces a list of the
    same scope whose period is the same (a later upload the earlier one)."""
    chosen: dict[tuple[object, date], PriceSource] = {}
    for source in base.sources if base is not None else ():
        plist = source.price_list
        chosen[(plist.scope, periods.start_of(plist.effective_from))] = source
    for row in sorted(uploads, key=lambda upload: upload.id):
        plist = replace(load_price_list(row.toml, row.filename),
                        effective_from=row.effective_from)
        chosen[(plist.scope, periods.start_of(row.effective_from))] = PriceSource(
            plist, row.filename, row.toml)
    if not chosen:
        return None
    sources = tuple(chosen.values())
    return PriceCatalogue(PriceBook((s.price_list for s in sources), periods), sources,
                          periods)


class LivePrices:
    """This process's price book, rebuilt when the uploads in the database change."""

    def __init__(self, db: Database, settings: PricingSettings) -> None:
        self._db = db
        self._periods = AccountingPeriods(settings.period_start_day)
        self._base = load_catalogue(settings)  # BackendConfigError at start-up
        self._lock = threading.Lock()
        self._version: int | None = -1
        self._current = self._base

    def current(self) -> PriceCatalogue | None:
        """One indexed query per call (the highest id), a rebuild only when it moved."""
        with self._db.read() as session:
            latest = session.scalar(select(func.max(PriceListUpload.id)))
            if latest == self._version:
                return self._current
            with self._lock:
                if latest != self._version:
                    uploads = list(session.scalars(select(PriceListUpload)))
                    self._current = build(self._base, uploads, self._periods)
                    self._version = latest
                return self._current
