"""The FastAPI application factory.

``create_app`` wires a configuration to a database and returns the ASGI app; it migrates
the schema first (``migrate=True``) so a fresh SQLite file or an empty PostgreSQL database
is ready before the first request. Tests build apps on their own databases through it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from backend.api import (
    billing_codes,
    cards,
    events,
    holds,
    job_analyses,
    pricing,
    sessions,
    terminals,
)
from backend.config import BackendConfig
from backend.context import BackendContext
from backend.db import Database
from backend.ledger import ensure_system_accounts
from backend.migrate import upgrade
from backend.pricing import load_catalogue
from backend.problems import install_handlers
from backend.scheduler import RefillScheduler

API_PREFIX = "/api/v1"


def prepare_database(db: Database, currency: str) -> None:
    """Migrate to the latest schema and create the organisation's ledger accounts."""
    upgrade(db.engine)
    try:
        with db.write() as session:
            ensure_system_accounts(session, currency)
    except IntegrityError:
        # Another backend process starting at the same moment created them first.
        with db.write() as session:
            ensure_system_accounts(session, currency)


def create_app(config: BackendConfig, db: Database | None = None,
               secret: bytes | None = None, migrate: bool = True,
               schedule_refills: bool = False) -> FastAPI:
    db = db or Database.from_url(config.database_url, config.database.pool_size)
    if migrate:
        prepare_database(db, config.ledger.currency)
    context = BackendContext(config=config, db=db,
                             secret=secret if secret is not None else config.secret_key(),
                             prices=load_catalogue(config.pricing))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        if schedule_refills and config.refill.enabled:
            scheduler = RefillScheduler(context.db, config.ledger.currency,
                                        config.refill.check_interval_s)
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="printkiosk backend",
        version="1",
        description="Accounting server of printkiosk: the terminal API under /api/v1.",
    )
    app.state.context = context
    install_handlers(app)
    for module in (terminals, sessions, holds, billing_codes, cards, events, pricing,
                   job_analyses):
        app.include_router(module.router, prefix=API_PREFIX)

    @app.get(f"{API_PREFIX}/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
