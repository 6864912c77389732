"""A throwaway PostgreSQL database per test, so tests never see each other's rows."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy.engine import make_url


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(
        user=parsed.username or "postgres",
        password=parsed.password,
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        database=parsed.database or "postgres",
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def fresh_schema_url(request: pytest.FixtureRequest, url: str) -> str:
    name = f"ebc_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    request.addfinalizer(drop)
    return make_url(url).set(database=name).render_as_string(hide_password=False)
