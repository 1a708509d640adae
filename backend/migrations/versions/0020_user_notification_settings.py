"""users' notification choices and the low-balance / transaction-alert memory

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02

Issue 18 (user part): ``user_notification_settings`` holds, per user, the choices made on
/me or through the API (NULL: the site's default) and what the rules remember between
two movements (the low-balance hysteresis, the transaction alerts' grouping window).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_notification_settings",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("low_balance_enabled", sa.Boolean(), nullable=True),
        sa.Column("low_balance_threshold", sa.BigInteger(), nullable=True),
        sa.Column("transactions_enabled", sa.Boolean(), nullable=True),
        sa.Column("low_balance_sent", sa.Boolean(), nullable=False,
                  server_default=sa.false()),
        sa.Column("alerts_quiet_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alert_group_id", sa.Integer(), sa.ForeignKey("notifications.id"),
                  nullable=True),
        sa.Column("alert_group_due", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("user_notification_settings")
