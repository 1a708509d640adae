"""3D print jobs: uploaded G-code files, their analysis, price, claim and settlement

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "print3d_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=64), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("material", sa.String(length=32), nullable=True),
        sa.Column("grams", sa.String(length=32), nullable=False),
        sa.Column("metres", sa.String(length=32), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("grams_source", sa.String(length=8), nullable=False),
        sa.Column("time_source", sa.String(length=8), nullable=False),
        sa.Column("diameter_mm", sa.String(length=16), nullable=False),
        sa.Column("density_g_cm3", sa.String(length=16), nullable=False),
        sa.Column("ours", sa.JSON(), nullable=False),
        sa.Column("slicer", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("price_list", sa.String(length=200), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("hold_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hold_id", sa.String(length=32), nullable=True),
        sa.Column("terminal_id", sa.String(length=32), nullable=True),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("policy", sa.String(length=16), nullable=True),
        sa.Column("charged_grams", sa.String(length=32), nullable=True),
        sa.Column("charged_minutes", sa.Integer(), nullable=True),
        sa.Column("charged", sa.BigInteger(), nullable=True),
        sa.Column("printer_filament_mm", sa.String(length=32), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["hold_id"], ["holds.id"]),
        sa.ForeignKeyConstraint(["terminal_id"], ["terminals.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_print3d_jobs_user_status", "print3d_jobs", ["user_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_print3d_jobs_user_status", table_name="print3d_jobs")
    op.drop_table("print3d_jobs")
