from __future__ import annotations

import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from dispatcher.store.db import Database
from dispatcher.store.migrate import alembic_config
from dispatcher.store.models import Base
from dispatcher.store.records import ACK_STATES, ALERT_STATES, TASK_STATES


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_upgrade_head_matches_the_models(db: Database) -> None:
    async with db.session(readonly=True) as session:
        conn = await session.connection()
        assert await conn.run_sync(_diff) == []
        assert await conn.run_sync(_current) == _head()


async def test_starting_again_is_a_no_op(db: Database) -> None:
    again = Database(db.url, connect_args=db.connect_args)
    await again.start()
    try:
        async with again.session(readonly=True) as session:
            conn = await session.connection()
            assert await conn.run_sync(_current) == _head()
    finally:
        await again.stop()


def _checked_states(connection: Connection) -> dict[str, set[str]]:
    inspector = inspect(connection)
    found: dict[str, set[str]] = {}
    for table in ("alerts", "tasks", "acks"):
        for check in inspector.get_check_constraints(table):
            if str(check["name"]).endswith("state_valid"):
                found[table] = set(re.findall(r"'([^']*)'", check["sqltext"]))
    return found


async def test_the_migrated_checks_spell_the_same_states_as_the_records(db: Database) -> None:
    # compare_metadata does not look at CHECK constraints; this reads them off the database
    # that the revisions built (0008 rebuilt the acks table on SQLite to add "stopped")
    async with db.session(readonly=True) as session:
        conn = await session.connection()
        checked = await conn.run_sync(_checked_states)
    assert checked == {"alerts": ALERT_STATES, "tasks": TASK_STATES, "acks": ACK_STATES}
