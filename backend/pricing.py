"""Price lists for the terminals: billing's price book loaded from a directory, the list
that applies to a user at a terminal, estimates, and the user's period volume.

All the arithmetic is billing's (``billing.estimate``), so the backend and a kiosk that
estimates offline with the same file always agree to the cent. The backend keeps each
list's source text so ``GET /price-list`` can hand the kiosk that very file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.config import BackendConfigError, PricingSettings
from backend.models import CostCentre, Hold, Terminal, User
from billing import (
    AccountingPeriods,
    ConfigError,
    PeriodVolume,
    PriceBook,
    PriceList,
    PricingContext,
    load_price_list,
)


@dataclass(frozen=True)
class PriceSource:
    """One loaded list and the file it came from."""

    price_list: PriceList
    filename: str
    text: str


@dataclass(frozen=True)
class PriceCatalogue:
    book: PriceBook
    sources: tuple[PriceSource, ...]
    periods: AccountingPeriods

    def source_of(self, price_list: PriceList) -> PriceSource:
        return next(s for s in self.sources if s.price_list is price_list)


def load_catalogue(settings: PricingSettings) -> PriceCatalogue | None:
    """Every ``*.toml`` of the directory; BackendConfigError lists every problem found."""
    if settings.price_lists_dir is None:
        return None
    directory = Path(settings.price_lists_dir)
    if not directory.is_dir():
        raise BackendConfigError([f"pricing.price_lists_dir: {directory} is not a directory"])
    problems: list[str] = []
    sources: list[PriceSource] = []
    for path in sorted(directory.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        try:
            sources.append(PriceSource(load_price_list(text, path.name), path.name, text))
        except ConfigError as exc:
            problems.extend(str(problem) for problem in exc.problems)
    if not sources and not problems:
        problems.append(f"pricing.price_lists_dir: {directory} holds no *.toml price list")
    periods = AccountingPeriods(settings.period_start_day)
    try:
        book = PriceBook((s.price_list for s in sources), periods)
    except ValueError as exc:
        problems.append(f"pricing.price_lists_dir: {exc}")
    if problems:
        raise BackendConfigError(problems)
    return PriceCatalogue(book, tuple(sources), periods)


def context_for(session: Session, user: User | None, terminal: Terminal) -> PricingContext:
    """Who prints where, for the price-list precedence (user > cost centre > group >
    device > device model > default)."""
    return device_context(session, user, terminal.device, terminal.device_model)


def device_context(session: Session, user: User | None, device: str | None,
                   device_model: str | None) -> PricingContext:
    """As :func:`context_for`, for a device named otherwise than by a terminal (a 3D
    printer group and its printer model)."""
    centre = (session.get(CostCentre, user.cost_centre_id)
              if user is not None and user.cost_centre_id is not None else None)
    return PricingContext(
        user=user.username if user else None,
        groups=tuple(sorted(group.name for group in user.groups)) if user else (),
        cost_centre=centre.code if centre else None,
        device=device,
        device_model=device_model,
    )


def period_volume(session: Session, user: User, periods: AccountingPeriods,
                  today: date) -> PeriodVolume:
    """Sides the user had captured since the start of the current accounting period."""
    start = datetime.combine(periods.start_of(today), time.min, tzinfo=UTC)
    mono, colour = session.execute(
        select(func.coalesce(func.sum(Hold.mono_sides), 0),
               func.coalesce(func.sum(Hold.colour_sides), 0))
        .where(Hold.user_id == user.id, Hold.status == "captured", Hold.settled_at >= start)
    ).one()
    return PeriodVolume(int(mono), int(colour))
