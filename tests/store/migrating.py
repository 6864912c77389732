"""Moving a test database between Alembic revisions, for the migration tests."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from sqlalchemy import Connection

from dispatcher.store.db import Database
from dispatcher.store.migrate import alembic_config


def _to(revision: str, *, down: bool) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    return run


async def migrate(db: Database, revision: str, *, down: bool = False) -> None:
    async with db.session() as session:
        conn = await session.connection()
        await conn.run_sync(_to(revision, down=down))
        await session.commit()
