"""Alembic environment: runs on a connection handed over by `migrate.upgrade`, or on its own
engine built from `sqlalchemy.url` (the `python -m dispatcher.store.migrate` command)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

# Registers the console's tables on Base.metadata: autogenerate must see every table.
import dispatcher.console.models  # noqa: F401
import simulators.drill.store  # noqa: F401  (the drills table, revision 0003)
from dispatcher.store.coltypes import UTCDateTime
from dispatcher.store.db import Database
from dispatcher.store.models import Base

config = context.config
target_metadata = Base.metadata


def _render_item(
    kind: str, obj: Any, autogen_context: AutogenContext
) -> str | Literal[False]:
    # Revisions stay frozen: they spell the storage type, never import application types.
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_database(url: str) -> None:
    # Through Database, so SQLite gets its pragmas and write lock as in the application.
    db = Database(url, run_migrations=False)
    await db.start()
    try:
        async with db.session() as session:
            conn = await session.connection()
            await conn.run_sync(_run)
            await session.commit()
    finally:
        await db.stop()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    asyncio.run(_run_with_own_database(url))


if context.is_offline_mode():
    run_offline()
else:
    run_online()
