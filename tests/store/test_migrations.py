from __future__ import annotations

import importlib.util
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from dispatcher.store.db import Database
from dispatcher.store.migrate import MIGRATIONS, alembic_config
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


def test_initial_revision_spells_the_same_states_as_the_records() -> None:
    # compare_metadata does not look at CHECK constraints; this does.
    path = MIGRATIONS / "versions" / "0001_initial.py"
    spec = importlib.util.spec_from_file_location("rev0001", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def listed(text: str) -> set[str]:
        return {part.strip().strip("'") for part in text.split(",")}

    assert listed(module.ALERT_STATES) == ALERT_STATES
    assert listed(module.TASK_STATES) == TASK_STATES
    assert listed(module.ACK_STATES) == ACK_STATES
