"""Platform hierarchy: links to upper and lower platforms, and lower platforms' reports.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_links",
        sa.Column("ebrid", sa.String(64), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("url", sa.String(512), nullable=False),
        sa.Column("last_heard", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sent", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ebrid", name="pk_platform_links"),
    )
    op.create_table(
        "platform_reports",
        sa.Column("alert_id", sa.String(32), nullable=False),
        sa.Column("platform_ebrid", sa.String(64), nullable=False),
        sa.Column("brd_state_code", sa.Integer(), nullable=False),
        sa.Column("coverage_rate", sa.Float(), nullable=False),
        sa.Column("targeted", sa.Integer(), nullable=False),
        sa.Column("acked", sa.Integer(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "platform_ebrid", name="pk_platform_reports"),
    )


def downgrade() -> None:
    op.drop_table("platform_reports")
    op.drop_table("platform_links")
