"""Process entry for ``printkiosk backend``: migrate, optionally seed, then serve or act."""

from __future__ import annotations

import sys

from backend.app import create_app, prepare_database
from backend.config import BackendConfig
from backend.db import Database


def main(config: BackendConfig, *, action: str = "serve", host: str | None = None,
         port: int | None = None, demo_data: bool = False, migrate_only: bool = False) -> int:
    db = Database.from_url(config.database_url, config.database.pool_size)
    secret = config.secret_key()
    try:
        prepare_database(db, config.ledger.currency)
        if demo_data:
            from backend.demo import seed_demo

            seed_demo(db, secret, config.ledger.currency)
        if migrate_only:
            print(f"database at the latest schema: {db.engine.url.render_as_string()}")
            return 0
        if action == "enrolment-key":
            from backend.terminals import create_enrolment_key

            with db.write() as session:
                print(create_enrolment_key(session, secret, actor="cli"))
            return 0
        if action == "refill":
            from backend.refill import refill_due

            with db.write() as session:
                print(refill_due(session, config.ledger.currency))
            return 0
        import uvicorn

        app = create_app(config, db, secret, migrate=False)
        uvicorn.run(app, host=host or config.server.host, port=port or config.server.port,
                    log_level="info")
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        db.dispose()
        sys.stdout.flush()
