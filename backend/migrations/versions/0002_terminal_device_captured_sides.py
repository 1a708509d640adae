"""terminal device, captured sides

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mono_sides", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("colour_sides", sa.Integer(), nullable=True))

    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("device_model", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.drop_column("device_model")
        batch_op.drop_column("device")

    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_column("colour_sides")
        batch_op.drop_column("mono_sides")
