"""Acks may say "stopped": a terminal acknowledges the stop of a cancelled broadcast (and a
lower platform reports it, GY/T 384 state 5). The acks table's CHECK did not list it, so
the ack collector dropped every one with a warning and a Cancel's reach was never logged.

SQLite cannot change a CHECK in place: the table is rebuilt, which drops its trigger, so
the trigger of revision 0007 is created again.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dispatcher.store.migrations.ack_log_trigger import SQLITE_TRIGGER

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = ("failed", "played", "playing", "received", "rejected", "verified")
_AFTER = (*_BEFORE, "stopped")


def upgrade() -> None:
    _allow(_AFTER)


def downgrade() -> None:
    # their log rows stay: the dispatch log is append-only
    op.execute("DELETE FROM acks WHERE state = 'stopped'")
    _allow(_BEFORE)


def _allow(states: tuple[str, ...]) -> None:
    check = "state IN ({})".format(", ".join(f"'{s}'" for s in sorted(states)))
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_acks_state_valid"), "acks", type_="check")
        op.create_check_constraint(op.f("ck_acks_state_valid"), "acks", check)
        return
    op.create_table(
        "acks_rebuilt",
        sa.Column("alert_id", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "target", "state", name=op.f("pk_acks")),
        sa.CheckConstraint(check, name=op.f("ck_acks_state_valid")),
    )
    # into the new table, which has no trigger yet: no log row is written twice
    op.execute(
        "INSERT INTO acks_rebuilt (alert_id, target, state, detail, at) "
        "SELECT alert_id, target, state, detail, at FROM acks"
    )
    op.drop_table("acks")
    op.rename_table("acks_rebuilt", "acks")
    op.execute(SQLITE_TRIGGER)
