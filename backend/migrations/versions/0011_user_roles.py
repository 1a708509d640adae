"""user roles: technician (issue 16), cashier and admin; a wider audit actor

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

``user_roles`` holds one row per role granted to a user. The audit log's ``actor``
grows to 200 characters: a technician's report at a kiosk is audited as
``technician:<username>@terminal:<terminal id>``, longer than the 100 it had.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.CheckConstraint("role IN ('technician', 'cashier', 'admin')",
                           name="ck_user_roles_role"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id", "role"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("actor", existing_type=sa.String(length=100),
                              type_=sa.String(length=200), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("actor", existing_type=sa.String(length=200),
                              type_=sa.String(length=100), existing_nullable=False)
    op.drop_table("user_roles")
