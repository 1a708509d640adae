"""The FastAPI application factory.

``create_app`` wires a configuration to a database and returns the ASGI app; it migrates
the schema first (``migrate=True``) so a fresh SQLite file or an empty PostgreSQL database
is ready before the first request. Tests build apps on their own databases through it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import Depends, FastAPI
from sqlalchemy.exc import IntegrityError

from backend.api import (
    billing_codes,
    cards,
    events,
    holds,
    job_analyses,
    notifications,
    pricing,
    print3d,
    sessions,
    technician,
    terminals,
    topups,
    vouchers,
)
from backend.api.deps import note_heartbeat
from backend.api.params import single_line_parameters
from backend.body_limit import BodyLimit
from backend.config import BackendConfig
from backend.context import BackendContext
from backend.db import Database
from backend.holds_expiry import expire_stale_holds
from backend.ledger import ensure_system_accounts
from backend.migrate import upgrade
from backend.notify import devices
from backend.notify.hook import install_rules
from backend.notify.worker import deliver_due
from backend.payments.gateway import PaymentGateway
from backend.payments.registry import make_gateway
from backend.price_uploads import LivePrices
from backend.problems import PROBLEM_RESPONSES, install_handlers
from backend.rate_limits import RateLimits
from backend.refill import refill_due
from backend.reports.saved import record_due
from backend.scheduler import PeriodicTask
from backend.statements.schedule import statement_schedule
from backend.topup_reconcile import reconcile
from backend.topup_waiter import TopUpWaiter
from backend.topups import expire_top_ups
from backend.voucher_admin import expire_vouchers
from backend.web.mount import install_web

API_PREFIX = "/api/v1"
_log = logging.getLogger(__name__)
# Writes any client may send without a terminal token: only enrolment gets one.
PUBLIC_WRITES = frozenset({f"{API_PREFIX}/terminals/enrol"})


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


def scheduled_tasks(config: BackendConfig, db: Database,
                    gateway: PaymentGateway | None = None) -> list[PeriodicTask]:
    """The server's periodic work: quota refills (when enabled), stale-hold expiry,
    voucher expiry (breakage), and with a payment gateway top-up expiry and
    reconciliation."""
    currency = config.ledger.currency

    def refill() -> int:
        with db.write() as session:
            return len(refill_due(session, currency))

    max_age = timedelta(hours=config.holds.expire_after_h)
    tasks = [PeriodicTask("hold expiry", config.holds.check_interval_s,
                          lambda: len(expire_stale_holds(db, max_age, actor="scheduler")),
                          "stale holds voided"),
             PeriodicTask("voucher expiry", config.vouchers.expire_check_interval_s,
                          lambda: len(expire_vouchers(db, actor="scheduler",
                                                      timezone=config.vouchers.timezone)),
                          "voucher batches expired (breakage posted)")]
    if gateway is not None:
        payments = config.payments
        tasks += [PeriodicTask("top-up expiry", payments.check_interval_s,
                               lambda: len(expire_top_ups(db)), "top-ups expired"),
                  PeriodicTask("top-up reconciliation", payments.check_interval_s,
                               lambda: len(reconcile(db, gateway, timedelta(
                                   minutes=payments.reconcile_after_min))),
                               "pending top-ups asked of the gateway")]
    tasks.append(PeriodicTask("statements", config.statements.check_interval_s,
                              lambda: statement_schedule(db, config.statements),
                              "statements overdue or payment reminders recorded"))
    if config.refill.enabled:
        tasks.append(PeriodicTask("quota refill", config.refill.check_interval_s, refill,
                                  "users refilled"))
    if config.notifications.enabled:
        tasks.append(PeriodicTask("mail outbox", config.notifications.check_interval_s,
                                  lambda: deliver_due(db, config), "mails sent"))
        tasks.append(PeriodicTask("saved reports", config.notifications.check_interval_s,
                                  lambda: record_due(db, config.ledger.currency),
                                  "report mails recorded"))
    if devices.active(config) is not None:
        tasks.append(PeriodicTask("device problems",
                                  config.notifications.devices.check_interval_s,
                                  lambda: devices.run_checks(db, config),
                                  "device problems opened or digests recorded"))
    return tasks


def create_app(config: BackendConfig, db: Database | None = None,
               secret: bytes | None = None, migrate: bool = True,
               schedule: bool = False) -> FastAPI:
    """``schedule``: run the periodic tasks in this process (the server does; tests of the
    API alone do not)."""
    db = db or Database.from_url(config.database_url, config.database.pool_size)
    install_rules(db, config)
    if migrate:
        prepare_database(db, config.ledger.currency)
    context = BackendContext(config=config, db=db,
                             secret=secret if secret is not None else config.secret_key(),
                             limits=RateLimits.from_settings(config.sessions),
                             live_prices=LivePrices(db, config.pricing))

    if migrate:
        removed = print3d.prepare_storage(context)
        if removed:
            _log.warning("3D job store: removed %d file(s) left by a crash: %s", len(removed),
                         ", ".join(removed))
    gateway = make_gateway(config, context.secret)
    waiter = TopUpWaiter(db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = scheduled_tasks(config, context.db, gateway) if schedule else []
        for task in tasks:
            task.start()
        try:
            yield
        finally:
            for task in tasks:
                task.stop()
            waiter.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="printkiosk backend",
        version="1",
        description="Accounting server of printkiosk: the terminal API under /api/v1.",
        dependencies=[Depends(single_line_parameters)],
    )
    app.state.context = context
    app.state.gateway = gateway
    app.state.topup_waiter = waiter
    install_handlers(app)
    # A gateway's webhook carries the gateway's signature, not a terminal token.
    webhook_paths = ({f"{API_PREFIX}/payments/webhooks/{gateway.name}"}
                     if gateway is not None else set())
    path_limits = ({f"{API_PREFIX}{print3d.UPLOAD_PATH}": print3d.upload_limit(config.print3d)}
                   if config.print3d is not None else {})
    app.add_middleware(BodyLimit, max_bytes=config.server.max_body_bytes,
                       api_prefix=API_PREFIX, public_paths=PUBLIC_WRITES | webhook_paths,
                       path_limits=path_limits)
    for module in (terminals, sessions, holds, billing_codes, cards, events, pricing,
                   job_analyses, vouchers, topups, print3d, technician, notifications):
        app.include_router(module.router, prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
    app.include_router(topups.webhooks, prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
    if gateway is not None and gateway.name == "demo":
        from backend.payments import demo_gateway, demo_statement_page

        app.include_router(demo_gateway.router(context))
        app.include_router(demo_statement_page.router(context))
    install_web(app, API_PREFIX)

    @app.get(f"{API_PREFIX}/health", tags=["health"], responses=PROBLEM_RESPONSES,
             dependencies=[Depends(note_heartbeat)])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
