"""unmatched bank statement lines (bank_transfer top-ups), listed for the cash desk

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unmatched_statement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_reference", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("top_up_id", sa.Integer(), nullable=True),
        sa.Column("booked_on", sa.Date(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("remittance", sa.Text(), nullable=False),
        sa.Column("payer", sa.String(length=255), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["top_up_id"], ["top_ups.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bank_reference"),
    )


def downgrade() -> None:
    op.drop_table("unmatched_statement_lines")
