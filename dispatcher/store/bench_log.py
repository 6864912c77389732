"""Measure dispatch-log append rates: batches of `--batch` rows, one transaction per batch,
against one commit per row.

    python -m dispatcher.store.bench_log                        # SQLite in a temp directory
    python -m dispatcher.store.bench_log --url postgresql+asyncpg://postgres@127.0.0.1:5432/test

PostgreSQL runs in a throw-away schema, dropped afterwards; nothing else in the database is
touched.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from dispatcher.store import repo
from dispatcher.store.db import Database, async_url
from dispatcher.store.records import NewLogEvent


def _events(alert_id: str, start: int, count: int, dedup: bool) -> list[NewLogEvent]:
    return [
        NewLogEvent(
            alert_id=alert_id, task_id="t" * 32, target=f"{i:023d}", event="target.delivered",
            detail={"attempt": 1, "bearer": "ip"},
            dedup_key=f"{alert_id}:{i:023d}:outcome" if dedup else None,
        )
        for i in range(start, start + count)
    ]


async def _batched(db: Database, rows: int, batch: int, dedup: bool) -> float:
    alert_id = uuid.uuid4().hex
    started = time.perf_counter()
    for start in range(0, rows, batch):
        events = _events(alert_id, start, min(batch, rows - start), dedup)
        async with db.session() as session:
            await repo.append_log(session, events=events)
            await session.commit()
    return rows / (time.perf_counter() - started)


async def _per_row(db: Database, rows: int, dedup: bool) -> float:
    alert_id = uuid.uuid4().hex
    events = _events(alert_id, 0, rows, dedup)
    started = time.perf_counter()
    for event in events:
        async with db.session() as session:
            await repo.append_log(session, events=[event])
            await session.commit()
    return rows / (time.perf_counter() - started)


@asynccontextmanager
async def _database(url: str | None) -> AsyncIterator[Database]:
    if url is None or async_url(url).get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(url or f"sqlite:///{Path(tmp) / 'bench.db'}")
            await db.start()
            try:
                yield db
            finally:
                await db.stop()
        return
    schema = f"ebc_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        db = Database(url, connect_args={"server_settings": {"search_path": schema}})
        await db.start()
        try:
            yield db
        finally:
            await db.stop()
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


async def run(url: str | None, rows: int, batch: int, single: int, dedup: bool) -> None:
    async with _database(url) as db:
        batched = await _batched(db, rows, batch, dedup)
        per_row = await _per_row(db, single, dedup) if single else 0.0
        print(f"backend={db.dialect} dedup_key={'yes' if dedup else 'no'}")
        print(f"  batches of {batch}: {rows} rows, {batched:,.0f} rows/s")
        if single:
            print(f"  one commit per row: {single} rows, {per_row:,.0f} rows/s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dispatcher.store.bench_log")
    parser.add_argument("--url", help="SQLAlchemy URL (default: SQLite in a temp directory)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--single", type=int, default=2000,
                        help="rows for the one-commit-per-row comparison (0 to skip)")
    parser.add_argument("--no-dedup", action="store_true", help="rows without dedup_key")
    args = parser.parse_args(argv)
    asyncio.run(run(args.url, args.rows, args.batch, args.single, not args.no_dedup))


if __name__ == "__main__":
    main()
