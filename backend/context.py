"""What every request handler needs: the database, the secret key and the settings.

Built once by the app factory (``backend.app.create_app``); importing this module opens
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.config import BackendConfig
from backend.db import Database
from backend.pricing import PriceCatalogue
from backend.rate_limits import RateLimits

if TYPE_CHECKING:
    from backend.price_uploads import LivePrices


@dataclass(frozen=True)
class BackendContext:
    config: BackendConfig
    db: Database
    secret: bytes
    limits: RateLimits  # per process (see backend.rate_limits)
    # The price book: the files at start-up plus the lists uploaded from /admin/prices,
    # kept in step with the database (backend.price_uploads).
    live_prices: LivePrices | None = None

    @property
    def prices(self) -> PriceCatalogue | None:
        return self.live_prices.current() if self.live_prices is not None else None

    @property
    def currency(self) -> str:
        return self.config.ledger.currency
