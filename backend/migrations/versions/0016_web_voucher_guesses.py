"""voucher guesses from the user's own page: no terminal

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

Issue 17, the user's page (/me). A voucher code typed on /me is counted against the
same per-user guessing limit as at a kiosk (``backend.voucher_limits``), but it comes
from no terminal: ``voucher_failures.terminal_id`` and ``voucher_lockouts.terminal_id``
become nullable (NULL: the web page).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_TABLES = ("voucher_failures", "voucher_lockouts")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("terminal_id", existing_type=sa.String(length=32),
                                  nullable=True)


def downgrade() -> None:
    # Guesses and lockouts from /me have no terminal to keep them under: they go.
    op.execute(sa.text("DELETE FROM voucher_failures WHERE terminal_id IS NULL"))
    op.execute(sa.text("DELETE FROM voucher_lockouts WHERE terminal_id IS NULL"))
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("terminal_id", existing_type=sa.String(length=32),
                                  nullable=False)
