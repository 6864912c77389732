"""Each new ack's dispatch-log row is written by the database, in the statement that stores
the ack, without a dedup key.

The log row used to be a second INSERT, made idempotent by a unique key
"{alert_id}:{target}:ack:{state}". Terminals ack in no particular order, so every batch
inserted into that index at random places: in a 100k fan-out each commit rewrote thousands
of its pages, and the log INSERT cost 17 µs per ack against 7 µs for the ack itself. A
trigger on acks fires only for rows the ack INSERT really adds (ON CONFLICT DO NOTHING adds
none for a repeat), so the log row is written exactly once without any key to check.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from dispatcher.store.migrations.ack_log_trigger import (
    POSTGRES_FUNCTION,
    POSTGRES_TRIGGER,
    SQLITE_TRIGGER,
)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What revision 0006's code expects of the rows logged meanwhile: their dedup key, so that
# re-recording an ack there does not log it twice.
_KEYS_BACK = """
UPDATE dispatch_log SET dedup_key =
    alert_id || ':' || target || ':ack:' || substr(event, 5)
WHERE dedup_key IS NULL AND task_id IS NULL AND target IS NOT NULL
    AND event IN ('ack.received', 'ack.verified', 'ack.playing', 'ack.played',
                  'ack.rejected', 'ack.failed')"""


def upgrade() -> None:
    if _sqlite():
        op.execute(SQLITE_TRIGGER)
    else:
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)


def downgrade() -> None:
    if _sqlite():
        op.execute("DROP TRIGGER acks_logged")
    else:
        op.execute("DROP TRIGGER acks_logged ON acks")
        op.execute("DROP FUNCTION ebc_log_new_acks()")
    op.execute(_KEYS_BACK)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"
