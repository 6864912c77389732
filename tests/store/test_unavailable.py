from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.errors import StoreUnavailable
from tests.dbsupport import make_test_database


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_postgresql_on_a_closed_port_is_unavailable() -> None:
    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/test",
                  connect_timeout=2)
    assert db.dialect == "postgresql"
    with pytest.raises(StoreUnavailable) as caught:
        await db.start()
    assert isinstance(caught.value, RuntimeError)
    assert caught.value.__cause__ is not None
    with pytest.raises(StoreUnavailable):
        await db.ping()  # never started
    await db.stop()


async def test_postgresql_going_away_after_start_is_unavailable() -> None:
    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/test",
                  run_migrations=False)
    await db.start()  # nothing connects yet
    try:
        with pytest.raises(StoreUnavailable):
            await db.ping()
        with pytest.raises(StoreUnavailable):
            async with db.session() as s:
                await repo.get_alert(s, alert_id="x")
    finally:
        await db.stop()


async def test_sqlite_locked_by_another_connection_is_unavailable(tmp_path: Path) -> None:
    db, cleanup = await make_test_database("sqlite", tmp_path, busy_timeout_ms=100)
    path = db.url.database
    assert path is not None
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        # A write session takes the write lock on entry: the busy timeout expires there.
        with pytest.raises(StoreUnavailable, match="locked"):
            async with db.session() as s:
                await repo.next_counter(s, name="x")
        # A reader proceeds under WAL, but its first write hits the lock.
        async with db.session(readonly=True) as s:
            assert await repo.get_alert(s, alert_id="x") is None
        with pytest.raises(StoreUnavailable):
            async with db.session(readonly=True) as s:
                await repo.next_counter(s, name="x")
        # Starting a second handle must migrate under the write lock, so it cannot either.
        late = Database(db.url, busy_timeout_ms=100)
        with pytest.raises(StoreUnavailable):
            await late.start()
        await late.stop()
        await db.ping()  # reads still work: the database is busy, not gone
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    try:
        async with db.session() as s:
            assert await repo.next_counter(s, name="x") == 1
            await s.commit()
    finally:
        await cleanup()


async def test_errors_in_the_callers_own_code_pass_through(db: Database) -> None:
    with pytest.raises(ConnectionRefusedError):
        async with db.session() as s:
            await repo.get_alert(s, alert_id="x")
            raise ConnectionRefusedError("an adapter's, not the store's")


async def test_sqlite_parent_directory_is_created(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/deep/er/ebc.db")
    assert db.dialect == "sqlite"
    await db.start()
    try:
        await db.ping()
        assert (tmp_path / "deep" / "er" / "ebc.db").exists()
    finally:
        await db.stop()


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        Database("sqlite+aiosqlite://")
