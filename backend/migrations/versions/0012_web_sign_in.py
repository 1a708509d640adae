"""web sign-in: passwords, sessions, login failures; staff roles; the audit origin

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Issue 17's foundation. ``users.password_hash`` is the web password (staff and the user's
own page). ``web_sessions`` and ``web_login_failures`` are in the database so that every
backend process sees the same sessions and lockouts. The staff roles become
``cashier``, ``administrator`` and ``auditor``: grants of the former ``admin`` are
renamed ``administrator``. ``audit_log.origin`` says where a change came from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_NEW = "role IN ('technician', 'cashier', 'administrator', 'auditor')"
_OLD = "role IN ('technician', 'cashier', 'admin')"


def _rename_role(old: str, new: str, check: str) -> None:
    """Drop the CHECK, rename the grants, put the CHECK back with the new names."""
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.drop_constraint("ck_user_roles_role", type_="check")
    op.execute(sa.text("UPDATE user_roles SET role = :new WHERE role = :old")
               .bindparams(new=new, old=old))
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.create_check_constraint("ck_user_roles_role", check)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=100), nullable=True))
    _rename_role("admin", "administrator", _NEW)
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=False),
        sa.Column("origin", sa.String(length=100), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "web_login_failures",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username"),
    )


def downgrade() -> None:
    op.drop_table("web_login_failures")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.execute("DELETE FROM user_roles WHERE role = 'auditor'")
    _rename_role("administrator", "admin", _OLD)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("origin")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_hash")
