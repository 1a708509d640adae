"""cash desk: drawers, desk operations (receipts), the search indexes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

Issue 17's cash desk. ``desk_drawers`` is each clerk's drawer from its opening float to
the count (one open drawer per clerk: a partial unique index). ``desk_operations`` is
every money operation at the desk: its id is the receipt number, its ``operation`` the
form's hidden id (UNIQUE: a double submit posts once). The search as you type needs
index-friendly plans over many users: on PostgreSQL, btree indexes on lower(...) with
text_pattern_ops for prefixes and, when the pg_trgm extension can be created, trigram
GIN indexes for substrings (see docs/cash-desk.md); SQLite gets the lower() indexes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_SEARCHED = ("username", "display_name", "email")


def _search_indexes() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        for column in _SEARCHED:
            op.execute(f"CREATE INDEX ix_users_lower_{column} ON users (lower({column}))")
        return
    for column in _SEARCHED:
        op.execute(f"CREATE INDEX ix_users_lower_{column} "
                   f"ON users (lower({column}) text_pattern_ops)")
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    # Where it cannot be created the desk still works, substring search then scans.
    op.execute("SAVEPOINT desk_trgm")
    try:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        op.execute("ROLLBACK TO SAVEPOINT desk_trgm")
        return
    op.execute("RELEASE SAVEPOINT desk_trgm")
    for column in _SEARCHED:
        op.execute(f"CREATE INDEX ix_users_trgm_{column} "
                   f"ON users USING gin (lower({column}) gin_trgm_ops)")


def upgrade() -> None:
    op.create_table(
        "desk_drawers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=False),
        sa.Column("clerk", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("opening_float", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expected", sa.BigInteger(), nullable=True),
        sa.Column("counted", sa.BigInteger(), nullable=True),
        sa.Column("difference", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["clerk_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_desk_drawers_clerk_id", "desk_drawers", ["clerk_id"])
    op.create_index("uq_desk_drawers_open_clerk", "desk_drawers", ["clerk_id"], unique=True,
                    sqlite_where=sa.text("closed_at IS NULL"),
                    postgresql_where=sa.text("closed_at IS NULL"))
    op.create_table(
        "desk_operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("drawer_id", sa.Integer(), nullable=False),
        sa.Column("clerk", sa.String(length=100), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["drawer_id"], ["desk_drawers.id"]),
        sa.ForeignKeyConstraint(["transaction_id"], ["ledger_transactions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("operation"),
    )
    op.create_index("ix_desk_operations_user_id", "desk_operations", ["user_id"])
    op.create_index("ix_desk_operations_drawer_id", "desk_operations", ["drawer_id"])
    _search_indexes()


def downgrade() -> None:
    for column in _SEARCHED:
        op.execute(f"DROP INDEX IF EXISTS ix_users_trgm_{column}")
        op.execute(f"DROP INDEX IF EXISTS ix_users_lower_{column}")
    op.drop_table("desk_operations")
    op.drop_table("desk_drawers")
