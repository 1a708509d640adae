"""vouchers: batches, vouchers (keyed hashes only), failed guesses and lockouts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voucher_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("prefix", sa.String(length=6), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.Column("export_blob", sa.LargeBinary(), nullable=True),
        sa.Column("export_token_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_table(
        "vouchers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("sold_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sold_via", sa.String(length=8), nullable=True),
        sa.Column("sale_transaction_id", sa.Integer(), nullable=True),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("redeemed_terminal_id", sa.String(length=32), nullable=True),
        sa.Column("redeem_transaction_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("broken_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["voucher_batches.id"]),
        sa.ForeignKeyConstraint(["sale_transaction_id"], ["ledger_transactions.id"]),
        sa.ForeignKeyConstraint(["redeemed_by_user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["redeemed_terminal_id"], ["terminals.id"]),
        sa.ForeignKeyConstraint(["redeem_transaction_id"], ["ledger_transactions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_id", "serial"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_table(
        "voucher_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["terminal_id"], ["terminals.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_voucher_failures_terminal_at", "voucher_failures",
                    ["terminal_id", "at"])
    op.create_index("ix_voucher_failures_user_at", "voucher_failures", ["user_id", "at"])
    op.create_table(
        "voucher_lockouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["terminal_id"], ["terminals.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_voucher_lockouts_started_at", "voucher_lockouts", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_voucher_lockouts_started_at", table_name="voucher_lockouts")
    op.drop_table("voucher_lockouts")
    op.drop_index("ix_voucher_failures_user_at", table_name="voucher_failures")
    op.drop_index("ix_voucher_failures_terminal_at", table_name="voucher_failures")
    op.drop_table("voucher_failures")
    op.drop_table("vouchers")
    op.drop_table("voucher_batches")
