"""device problems

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

Issue 18, device problems to administrators: ``device_problems`` holds one row per
problem of a terminal's device from the moment it is seen until it clears; the unique
``open_key`` (NULL once cleared) keeps one open row per device and problem.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_problems",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("terminal_id", sa.String(length=32), sa.ForeignKey("terminals.id"),
                  nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("open_key", sa.String(length=300), nullable=True, unique=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_device_problems_terminal", "device_problems",
                    ["terminal_id", "cleared_at"])


def downgrade() -> None:
    op.drop_index("ix_device_problems_terminal", table_name="device_problems")
    op.drop_table("device_problems")
