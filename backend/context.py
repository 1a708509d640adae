"""What every request handler needs: the database, the secret key and the settings.

Built once by the app factory (``backend.app.create_app``); importing this module opens
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.config import BackendConfig
from backend.db import Database
from backend.pricing import PriceCatalogue
from backend.rate_limits import RateLimits


@dataclass(frozen=True)
class BackendContext:
    config: BackendConfig
    db: Database
    secret: bytes
    limits: RateLimits  # per process (see backend.rate_limits)
    prices: PriceCatalogue | None = None

    @property
    def currency(self) -> str:
        return self.config.ledger.currency
