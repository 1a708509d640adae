"""billing code payer: who pays for a job charged to a code

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billing_codes", schema=None) as batch_op:
        # NULL: inherit from the client (a client without a setting: the user pays).
        batch_op.add_column(sa.Column("payer", sa.String(length=8), nullable=True))

    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payer", sa.String(length=8), nullable=False,
                                      server_default="user"))


def downgrade() -> None:
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_column("payer")

    with op.batch_alter_table("billing_codes", schema=None) as batch_op:
        batch_op.drop_column("payer")
