"""the outbox: when a mail was given up

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

Issue 18 (mail part): ``notifications.failed_at``, the moment a mail was failed (a
permanent refusal, a template that does not render, or retries given up), for the
administrator's outbox page and ``printkiosk backend notify outbox``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("failed_at")
