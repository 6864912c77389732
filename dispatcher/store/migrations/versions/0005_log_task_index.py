"""Dispatch log by task and event: a retried task reads the targets it already reached, and
without this index that read scanned the whole log, which grows by one row per terminal.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_dispatch_log_task_id_event", "dispatch_log", ["task_id", "event"])


def downgrade() -> None:
    op.drop_index("ix_dispatch_log_task_id_event", table_name="dispatch_log")
