"""the fleet: clients, sites, devices, meter and supply readings

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02

Issue 19 (foundation): devices belong to sites and sites to clients; each kiosk
``counters`` / ``supplies`` event is also stored as one row per counter or supply, so
monthly volumes, unattributed pages and supply forecasts are indexed range scans rather
than JSON walks over every event.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("clients.id"), nullable=True),
        sa.Column("billing_code_id", sa.Integer(), sa.ForeignKey("billing_codes.id"),
                  nullable=True, unique=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("language", sa.String(8), nullable=False, server_default="en"),
        sa.Column("billing_day", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("clients.id"), nullable=False,
                  index=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(200), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("serial", sa.String(100), nullable=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=True,
                  index=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "meter_readings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("terminal_events.id"),
                  nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counter", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("serial", sa.String(100), nullable=True),
        sa.UniqueConstraint("event_id", "counter"),
    )
    op.create_index("ix_meter_readings_device_counter_at", "meter_readings",
                    ["device_id", "counter", "read_at"])
    op.create_table(
        "supply_readings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("terminal_events.id"),
                  nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supply", sa.String(200), nullable=False),
        sa.Column("level_percent", sa.Integer(), nullable=True),
        sa.UniqueConstraint("event_id", "supply"),
    )
    op.create_index("ix_supply_readings_device_supply_at", "supply_readings",
                    ["device_id", "supply", "read_at"])


def downgrade() -> None:
    for table in ("supply_readings", "meter_readings", "devices", "sites", "clients"):
        op.drop_table(table)
