"""Operator console: users, sessions, originations awaiting a second person, audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out, not imported: a revision must keep meaning what it meant when it was written.
ROLES = "'admin', 'approver', 'auditor', 'operator'"
KINDS = "'alert', 'cancel'"
STATES = "'approved', 'dispatched', 'failed', 'pending', 'rejected'"


def _utc(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("region", sa.String(12), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        _utc("locked_until", nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        _utc("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_users")),
        sa.UniqueConstraint("username", name=op.f("uq_console_users_username")),
        sa.CheckConstraint(f"role IN ({ROLES})", name=op.f("ck_console_users_role_valid")),
    )

    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("client_ip", sa.String(64), nullable=False),
        _utc("created_at"),
        _utc("last_seen"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name=op.f("fk_console_sessions_user_id_console_users"),
        ),
    )
    op.create_index(op.f("ix_console_sessions_user_id"), "console_sessions", ["user_id"])

    op.create_table(
        "console_originations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("region", sa.String(12), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        _utc("submitted_at"),
        sa.Column("approver", sa.String(64), nullable=True),
        _utc("decided_at", nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("cancels", sa.String(32), nullable=True),
        sa.Column("alert_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_originations")),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_console_originations_kind_valid")),
        sa.CheckConstraint(
            f"state IN ({STATES})", name=op.f("ck_console_originations_state_valid")
        ),
    )
    op.create_index(
        op.f("ix_console_originations_state_submitted_at"),
        "console_originations",
        ["state", "submitted_at"],
    )

    op.create_table(
        "console_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        _utc("at"),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("region", sa.String(12), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("client_ip", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_audit")),
    )
    op.create_index(op.f("ix_console_audit_at"), "console_audit", ["at"])


def downgrade() -> None:
    for table in ("console_audit", "console_originations", "console_sessions", "console_users"):
        op.drop_table(table)
