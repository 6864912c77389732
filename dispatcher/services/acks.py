"""Ack collection: terminals' acks arrive in bursts; they are queued, written in batches
(idempotent on alert, target, state), and then complete the tasks they finish."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from adapters.base import AckReport
from dispatcher.services.fanout import check_acks_complete
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.errors import StoreUnavailable
from dispatcher.store.records import NewAck

log = logging.getLogger("ebc.acks")


class AckCollector:
    """An AckSink: ``submit`` never blocks on the database."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Callable[[], dt.datetime],
        batch_size: int = 1000,
        flush_interval: float = 0.05,
        on_written: Callable[[int], None] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._batch = batch_size
        self._interval = flush_interval
        self._queue: asyncio.Queue[AckReport] = asyncio.Queue()
        self._runner: asyncio.Task[None] | None = None
        self._on_written = on_written
        self.written = 0

    async def submit(self, acks: Sequence[AckReport]) -> None:
        for ack in acks:
            self._queue.put_nowait(ack)

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name="ebc-acks")

    async def stop(self) -> None:
        if self._runner:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        await self.flush()

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            await asyncio.sleep(self._interval)
            batch = [first]
            while len(batch) < self._batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)

    async def flush(self) -> None:
        while not self._queue.empty():
            batch: list[AckReport] = []
            while len(batch) < self._batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)

    async def _write(self, batch: list[AckReport]) -> None:
        now = self._clock()
        rows = [
            NewAck(
                alert_id=a.alert_id,
                target=a.target,
                state=a.state,
                detail=dict(a.detail),
                at=a.at or now,
            )
            for a in batch
        ]
        for attempt in range(1, 6):
            try:
                async with self._db.session() as session:
                    new = await repo.record_acks(session, acks=rows)
                    await session.commit()
                break
            except StoreUnavailable as exc:
                # acks are kept in memory and retried; terminals also re-send unacked QoS 1
                log.warning("ack batch not written (attempt %d): %s", attempt, exc)
                await asyncio.sleep(min(5.0, 0.2 * 2**attempt))
        else:
            for ack in batch:
                self._queue.put_nowait(ack)
            return
        self.written += new
        if self._on_written:
            self._on_written(new)
        alert_ids = sorted({a.alert_id for a in batch})
        await check_acks_complete(self._db, alert_ids=alert_ids, clock=self._clock)
