"""Initial schema: alerts, tasks, dispatch_log, acks, adapters, terminals, platform_counters.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out, not imported: a revision must keep meaning what it meant when it was written.
ALERT_STATES = (
    "'accepted', 'cancelled', 'completed', 'dispatching', 'expired', 'failed', 'partial', "
    "'waiting'"
)
TASK_STATES = (
    "'acked', 'cancelled', 'failed', 'partial', 'planned', 'sending', 'sent', 'timed_out'"
)
ACK_STATES = "'failed', 'played', 'playing', 'received', 'rejected', 'verified'"


def _utc(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("identifier", sa.String(255), nullable=False),
        sa.Column("cert_sn", sa.String(12), nullable=False),
        sa.Column("source_format", sa.String(16), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
        sa.Column("msg_type", sa.Integer(), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("event_type", sa.String(5), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        _utc("start_at", nullable=True),
        _utc("end_at", nullable=True),
        sa.Column("area_codes", sa.JSON(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("dropped_targets", sa.JSON(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("superseded_by", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ebmid", sa.String(35), nullable=True),
        _utc("created_at"),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("sender", "identifier", name=op.f("uq_alerts_sender_identifier")),
        sa.CheckConstraint(f"state IN ({ALERT_STATES})", name=op.f("ck_alerts_state_valid")),
        sa.CheckConstraint("msg_type BETWEEN 1 AND 5", name=op.f("ck_alerts_msg_type_range")),
    )
    op.create_index(op.f("ix_alerts_created_at"), "alerts", ["created_at"])
    op.create_index(op.f("ix_alerts_state_created_at"), "alerts", ["state", "created_at"])

    op.create_table(
        "tasks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("alert_id", sa.String(32), nullable=False),
        sa.Column("adapter_ebrid", sa.String(64), nullable=False),
        sa.Column("bearer", sa.String(16), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        _utc("not_before"),
        _utc("next_attempt_at"),
        _utc("deadline"),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        _utc("lease_until", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _utc("created_at"),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_tasks_alert_id_alerts")
        ),
        sa.CheckConstraint(f"state IN ({TASK_STATES})", name=op.f("ck_tasks_state_valid")),
    )
    op.create_index(op.f("ix_tasks_alert_id"), "tasks", ["alert_id"])
    op.create_index(
        op.f("ix_tasks_state_next_attempt_at_priority"),
        "tasks",
        ["state", "next_attempt_at", "priority"],
    )

    op.create_table(
        "dispatch_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("alert_id", sa.String(32), nullable=False),
        sa.Column("task_id", sa.String(32), nullable=True),
        sa.Column("target", sa.String(64), nullable=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        _utc("at"),
        sa.Column("dedup_key", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_log")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_dispatch_log_dedup_key")),
    )
    op.create_index(op.f("ix_dispatch_log_alert_id_id"), "dispatch_log", ["alert_id", "id"])

    op.create_table(
        "acks",
        sa.Column("alert_id", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        _utc("at"),
        sa.PrimaryKeyConstraint("alert_id", "target", "state", name=op.f("pk_acks")),
        sa.CheckConstraint(f"state IN ({ACK_STATES})", name=op.f("ck_acks_state_valid")),
    )

    op.create_table(
        "adapters",
        sa.Column("ebrid", sa.String(64), nullable=False),
        sa.Column("bearer", sa.String(16), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("healthy", sa.Boolean(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("ebrid", name=op.f("pk_adapters")),
    )

    op.create_table(
        "terminals",
        sa.Column("ebrid", sa.String(64), nullable=False),
        sa.Column("bearer", sa.String(16), nullable=False),
        sa.Column("region", sa.String(12), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("firmware", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        _utc("last_seen", nullable=True),
        _utc("created_at"),
        sa.PrimaryKeyConstraint("ebrid", name=op.f("pk_terminals")),
    )
    op.create_index(op.f("ix_terminals_region"), "terminals", ["region"])

    op.create_table(
        "platform_counters",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_platform_counters")),
    )


def downgrade() -> None:
    for table in ("platform_counters", "terminals", "adapters", "acks", "dispatch_log", "tasks",
                  "alerts"):
        op.drop_table(table)
