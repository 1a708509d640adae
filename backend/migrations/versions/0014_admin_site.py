"""admin site: uploaded price lists (kept as versions), enrolment key expiry and revocation

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Issue 17, the administration console's site settings. ``price_list_uploads`` keeps every
price list uploaded from ``/admin/prices`` with who and when (never updated, never
deleted: the history of what was in force); every backend process rebuilds its price book
when the highest id changes. ``enrolment_keys`` gets an expiry, a revocation time and its
creator, so a key lying in an e-mail does not enrol a terminal months later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "price_list_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope_kind", sa.String(length=16), nullable=False),
        sa.Column("scope_target", sa.String(length=200), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("toml", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("enrolment_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrolment_keys", schema=None) as batch_op:
        batch_op.drop_column("created_by")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("expires_at")
    op.drop_table("price_list_uploads")
