"""pin attempts: failed-PIN counters and locks per username, known or not

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

The counters move from ``users`` to their own table keyed by the username as typed, so
that an unknown username counts and locks exactly like a real one (issue 12): nothing in
the answers or the timing tells them apart. Counters in flight are carried over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pin_attempts",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username"),
    )
    op.execute(
        "INSERT INTO pin_attempts (username, failed_attempts, locked_until) "
        "SELECT username, pin_failed_attempts, pin_locked_until FROM users "
        "WHERE pin_failed_attempts > 0 OR pin_locked_until IS NOT NULL"
    )
    # Native DROP COLUMN (SQLite >= 3.35, Debian 12 has 3.40): Alembic's batch mode would
    # rebuild ``users``, and dropping the old table fails the cards' foreign keys.
    op.execute("ALTER TABLE users DROP COLUMN pin_failed_attempts")
    op.execute("ALTER TABLE users DROP COLUMN pin_locked_until")


def downgrade() -> None:
    op.add_column("users", sa.Column("pin_failed_attempts", sa.Integer(), nullable=False,
                                     server_default="0"))
    op.add_column("users", sa.Column("pin_locked_until", sa.DateTime(timezone=True),
                                     nullable=True))
    op.execute(
        "UPDATE users SET pin_failed_attempts = (SELECT failed_attempts FROM pin_attempts "
        "WHERE pin_attempts.username = users.username), pin_locked_until = (SELECT "
        "locked_until FROM pin_attempts WHERE pin_attempts.username = users.username) "
        "WHERE username IN (SELECT username FROM pin_attempts)"
    )
    op.drop_table("pin_attempts")
