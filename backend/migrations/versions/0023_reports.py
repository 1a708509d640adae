"""saved reports; indexes for usage reports (job log by time, refunds, 3D jobs by hold)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02

Issue 19 (usage reports): a monthly report reads the captured holds of a date range and
joins each to its refunds and its 3D job; without these indexes each of those is a
sequential scan of the table. A saved report is mailed each day, week or month.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("schedule", sa.String(8), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_holds_status_settled_at", "holds", ["status", "settled_at"])
    op.create_index("ix_ledger_transactions_hold_id", "ledger_transactions", ["hold_id"])
    op.create_index("ix_ledger_transactions_kind_created_at", "ledger_transactions",
                    ["kind", "created_at"])
    op.create_index("ix_print3d_jobs_hold_id", "print3d_jobs", ["hold_id"])


def downgrade() -> None:
    op.drop_index("ix_print3d_jobs_hold_id", "print3d_jobs")
    op.drop_index("ix_ledger_transactions_kind_created_at", "ledger_transactions")
    op.drop_index("ix_ledger_transactions_hold_id", "ledger_transactions")
    op.drop_index("ix_holds_status_settled_at", "holds")
    op.drop_table("saved_reports")
