"""Throw-away databases for tests, on SQLite (always) and PostgreSQL (when configured).

    from tests.dbsupport import database_fixture
    db = database_fixture()             # in a conftest: a `db` fixture over both backends

PostgreSQL runs need `EBC_TEST_DATABASE_URL` (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test);
without it the PostgreSQL cases are skipped, except under CI=true where that is a failure.
Each PostgreSQL database is a fresh schema (via search_path), dropped afterwards, so parallel
runs and leftovers from killed runs never meet.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from dispatcher.store.db import Database, async_url

URL_ENV = "EBC_TEST_DATABASE_URL"
BACKENDS = ("sqlite", "postgresql")

Cleanup = Callable[[], Awaitable[None]]


def postgres_url() -> str | None:
    return os.environ.get(URL_ENV) or None


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def backend_params(backends: Sequence[str] = BACKENDS) -> list[Any]:
    """pytest params, the PostgreSQL one skipped (visibly) when no server is configured."""
    params = []
    for backend in backends:
        marks: list[pytest.MarkDecorator] = []
        if backend == "postgresql":
            marks.append(pytest.mark.postgres)
            if postgres_url() is None and not _in_ci():
                marks.append(pytest.mark.skip(reason=f"PostgreSQL: set {URL_ENV} to run"))
        params.append(pytest.param(backend, id=backend, marks=marks))
    return params


async def make_test_database(
    backend: str, tmp_path: Path, **options: Any
) -> tuple[Database, Cleanup]:
    """A started, migrated, empty Database and the coroutine that disposes of it.

    `options` go to `Database` (e.g. busy_timeout_ms). A second handle on the same store, as
    another process would have: `Database(db.url, connect_args=db.connect_args)`.
    """
    if backend == "sqlite":
        path = tmp_path / f"ebc-{uuid.uuid4().hex[:8]}.db"
        db = Database(f"sqlite+aiosqlite:///{path}", **options)
        await db.start()
        return db, db.stop
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    url = postgres_url()
    if url is None:
        pytest.fail(f"CI=true but {URL_ENV} is not set: PostgreSQL tests cannot run")
    schema = f"ebc_test_{uuid.uuid4().hex[:12]}"
    await _admin(url, f'CREATE SCHEMA "{schema}"')
    connect_args = {**options.pop("connect_args", {}),
                    "server_settings": {"search_path": schema}}
    db = Database(url, connect_args=connect_args, **options)
    try:
        await db.start()
    except BaseException:
        await _admin(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        raise

    async def cleanup() -> None:
        try:
            await db.stop()
        finally:
            await _admin(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return db, cleanup


async def _admin(url: str, sql: str) -> None:
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def database_fixture(
    *, name: str = "db", backends: Sequence[str] = BACKENDS, **options: Any
) -> Any:
    """A pytest fixture called `name` yielding a fresh Database per test, per backend."""

    @pytest.fixture(name=name, params=backend_params(backends))
    async def _fixture(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
        db, cleanup = await make_test_database(request.param, tmp_path, **options)
        try:
            yield db
        finally:
            await cleanup()

    return _fixture
