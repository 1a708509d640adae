"""Alembic environment: always run online against the engine handed over by migrate.py."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy.exc import SAWarning

from backend.models import Base

# SQLite batch migrations reflect the tables they copy, and those referring to users
# reflect users too, whose lower() search indexes (0013) SQLAlchemy cannot reflect: it
# warns on every start. Batch mode recreates only the table it alters, so nothing of
# those indexes is lost; the warning is noise to a person starting the backend.
warnings.filterwarnings("ignore", category=SAWarning,
                        message="Skipped unsupported reflection of expression-based index")

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
