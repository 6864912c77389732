"""The database handle: engine, SQLite pragmas, migrations on start, sessions, error boundary."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, event, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from dispatcher.store import migrate
from dispatcher.store.errors import StoreUnavailable, is_unavailable, unavailable

log = logging.getLogger("ebc.store")

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg",
                  "postgres": "postgresql+asyncpg"}
# Any constant will do; it only has to be the same for every process migrating one database.
_MIGRATION_LOCK = 0x45424301


def async_url(url: str | URL) -> URL:
    """The URL with an async driver: plain `sqlite:///` and `postgresql://` are accepted too."""
    parsed = make_url(url)
    return parsed.set(drivername=_ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername))


#: RETURNING (the claim), UPDATE .. FROM (sightings), DROP COLUMN (revision 0006)
SQLITE_MINIMUM = (3, 35, 0)


def require_sqlite(version: tuple[int, int, int]) -> None:
    """Refuse, in words, a SQLite library older than the statements the store uses."""
    if tuple(version) < SQLITE_MINIMUM:
        have = ".".join(map(str, version))
        need = ".".join(map(str, SQLITE_MINIMUM))
        raise RuntimeError(
            f"EBC needs SQLite {need} or later; this Python is linked with SQLite {have}. "
            "Use a Python built against a newer libsqlite3, or PostgreSQL (EBC_DATABASE_URL)."
        )


class Database:
    """One per process. `start()` connects and migrates; `session()` is the unit of work.

    On SQLite, write sessions start with `BEGIN IMMEDIATE`: a deferred transaction that reads
    and then writes can fail at once with "database is locked" when another connection wrote
    in between, whatever the busy timeout. Readers (`readonly=True`) begin deferred and never
    wait. WAL lets readers and the one writer proceed together.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        echo: bool = False,
        busy_timeout_ms: int = 5000,
        connect_timeout: float = 10.0,
        connect_args: Mapping[str, Any] | None = None,
        run_migrations: bool = True,
        checkpoint_interval: float | None = None,
    ) -> None:
        self._url = async_url(url)
        if self.dialect == "sqlite" and self._url.database in (None, "", ":memory:"):
            # One shared connection: concurrent sessions would interleave their transactions.
            raise ValueError("in-memory SQLite is not supported; give a file path "
                             "(tests: tests.dbsupport.make_test_database)")
        self._echo = echo
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._connect_timeout = connect_timeout
        self._connect_args = dict(connect_args or {})
        self._run_migrations = run_migrations
        self._engine: AsyncEngine | None = None
        self._writers: async_sessionmaker[AsyncSession] | None = None
        self._readers: async_sessionmaker[AsyncSession] | None = None
        self._write_lock = asyncio.Lock()
        # SQLite: checkpoint the WAL from a background task every so many seconds instead of
        # in whichever commit crosses 1,000 pages (a county broadcast's delivery rows do),
        # which made the next alert's publish wait for it.
        self._checkpoint_interval = checkpoint_interval if self.dialect == "sqlite" else None
        self._checkpointer: asyncio.Task[None] | None = None
        self.checkpoints = 0

    @property
    def url(self) -> URL:
        """The URL in use (its `str()` masks the password)."""
        return self._url

    @property
    def connect_args(self) -> Mapping[str, Any]:
        return dict(self._connect_args)

    @property
    def dialect(self) -> str:
        """"sqlite" or "postgresql"."""
        return self._url.get_backend_name()

    async def start(self) -> None:
        if self._engine is not None:
            return
        if self.dialect == "sqlite":
            require_sqlite(sqlite3.sqlite_version_info)
        engine = self._create_engine()
        writer = engine.execution_options(sqlite_begin="IMMEDIATE")
        try:
            if self._run_migrations:
                await self._upgrade(writer)
        except Exception as exc:
            await engine.dispose()
            if is_unavailable(exc):
                raise unavailable(exc) from exc
            raise
        self._engine = engine
        self._writers = async_sessionmaker(writer, expire_on_commit=False)
        self._readers = async_sessionmaker(engine, expire_on_commit=False)
        if self._checkpoint_interval:
            self._checkpointer = asyncio.create_task(
                self._checkpoint_loop(self._checkpoint_interval), name="ebc-wal-checkpoint"
            )

    async def _checkpoint_loop(self, interval: float) -> None:
        while self._engine is not None:
            await asyncio.sleep(interval)
            try:
                await self.checkpoint()
            except Exception as exc:  # the next round retries; a commit never waits on it
                log.warning("WAL checkpoint failed: %s", exc)

    async def checkpoint(self) -> None:
        """Copy committed WAL pages into the database without blocking readers or writers."""
        if self._engine is None or self.dialect != "sqlite":
            return
        async with self._engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None  # a live pooled connection
            # outside any transaction: SQLAlchemy's BEGIN hook is not involved here
            await raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self.checkpoints += 1

    async def stop(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
            self._checkpointer = None
        engine, self._engine = self._engine, None
        self._writers = self._readers = None
        if engine is not None:
            await engine.dispose()

    async def ping(self) -> None:
        """Raise `StoreUnavailable` unless a round trip to the database succeeds."""
        if self._engine is None:
            raise StoreUnavailable("database not started")
        try:
            async with asyncio.timeout(self._connect_timeout), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            # Whatever stops SELECT 1 means the database cannot serve us.
            raise unavailable(exc) from exc

    @asynccontextmanager
    async def session(self, *, readonly: bool = False) -> AsyncIterator[AsyncSession]:
        """A session in its own transaction; the caller commits, leaving rolls back.

        Connects (and on SQLite takes the write lock) on entry, so an unreachable or busy
        database fails here, as `StoreUnavailable`, before the caller has done any work.
        Do not open a write session inside another one: on SQLite the inner one waits for
        the outer's lock and fails after the busy timeout.
        """
        makers = (self._readers, self._writers)
        maker = makers[0] if readonly else makers[1]
        if maker is None:
            raise StoreUnavailable("database not started")
        async with self._write_turn(readonly):
            session = maker()
            try:
                await session.connection()
            except Exception as exc:
                await _close_quietly(session)
                if is_unavailable(exc):
                    raise unavailable(exc) from exc
                raise
            try:
                yield session
            except sa_exc.SQLAlchemyError as exc:
                # Only database errors: an OSError from the caller's own I/O is not ours.
                await _close_quietly(session)
                if is_unavailable(exc):
                    raise unavailable(exc) from exc
                raise
            except BaseException:
                await _close_quietly(session)
                raise
            try:
                await session.close()
            except sa_exc.SQLAlchemyError as exc:
                if is_unavailable(exc):
                    raise unavailable(exc) from exc
                raise

    @asynccontextmanager
    async def _write_turn(self, readonly: bool) -> AsyncIterator[None]:
        """SQLite writers of this process queue here, in order, instead of polling the file
        lock (SQLite's busy handler sleeps up to 100 ms between tries); other processes are
        still kept out by the lock itself and the busy timeout."""
        if readonly or self.dialect != "sqlite":
            yield
            return
        try:
            async with asyncio.timeout(self._busy_timeout_ms / 1000):
                await self._write_lock.acquire()
        except TimeoutError as exc:
            raise StoreUnavailable(
                f"database busy: no write turn within {self._busy_timeout_ms} ms"
            ) from exc
        try:
            yield
        finally:
            self._write_lock.release()

    def _create_engine(self) -> AsyncEngine:
        connect_args: dict[str, Any] = {}
        if self.dialect == "sqlite":
            _make_parent_directory(self._url)
        elif self.dialect == "postgresql":
            connect_args["timeout"] = self._connect_timeout
        connect_args.update(self._connect_args)
        engine = create_async_engine(
            self._url,
            echo=self._echo,
            connect_args=connect_args,
            # A PostgreSQL restart leaves dead connections in the pool; test before use.
            pool_pre_ping=self.dialect == "postgresql",
        )
        if self.dialect == "sqlite":
            _install_sqlite_hooks(engine, self._busy_timeout_ms, self._checkpoint_interval)
        return engine

    async def _upgrade(self, engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            if self.dialect == "postgresql":
                # Two processes starting together must not both create the tables.
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
            await conn.run_sync(migrate.upgrade)


async def _close_quietly(session: AsyncSession) -> None:
    # The error already in flight is the one worth reporting.
    with contextlib.suppress(Exception):
        await session.close()


def _make_parent_directory(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_hooks(
    engine: AsyncEngine, busy_timeout_ms: int, checkpoint_interval: float | None
) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN cannot take IMMEDIATE; emit BEGIN ourselves instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL itself may have to wait for a lock.
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms:d}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            if checkpoint_interval:
                cursor.execute("PRAGMA wal_autocheckpoint = 0")
                cursor.execute("PRAGMA journal_size_limit = 67108864")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
