"""Ack collection: terminals' acks arrive in bursts; they are queued, written in batches
(idempotent on alert, target, state), and then complete the tasks they finish."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import deque
from collections.abc import Callable, Sequence

from adapters.base import AckReport
from dispatcher.services.fanout import check_acks_complete
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.errors import StoreUnavailable
from dispatcher.store.records import ACK_STATES

log = logging.getLogger("ebc.acks")


def writers_for(dialect: str) -> int:
    """Concurrent ack batches by default: PostgreSQL writes them on its own cores (two reach
    about 38k acks/s, `python -m bench --only acks`); SQLite has one write turn."""
    return 2 if dialect == "postgresql" else 1


class AckCollector:
    """An AckSink: ``submit`` never blocks on the database."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Callable[[], dt.datetime],
        batch_size: int = 1000,
        flush_interval: float = 0.05,
        check_interval: float = 0.25,
        writers: int = 1,
        on_written: Callable[[int], None] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._batch = batch_size
        self._interval = flush_interval
        # None is the stop mark: the writer finishes its batch rather than being cancelled
        # inside a write transaction (SQLite would keep the connection's write lock).
        # A deque and an event rather than an asyncio.Queue: its per-item bookkeeping was a
        # tenth of the broker link's time per ack in a fan-out's burst.
        self._queue: deque[AckReport | None] = deque()
        self._arrived = asyncio.Event()
        # PostgreSQL takes concurrent batches on its own cores; SQLite has one write turn.
        self._writers = max(1, writers)
        self._runners: list[asyncio.Task[None]] = []
        self._on_written = on_written
        self._checking = False
        self._check_interval = check_interval
        self._unchecked: set[str] = set()
        self._last_check = 0.0
        self.written = 0

    async def submit(self, acks: Sequence[AckReport]) -> None:
        self.offer(acks)

    def offer(self, acks: Sequence[AckReport]) -> None:
        """`submit` without a coroutine, for the broker link's per-message path."""
        self._queue.extend(acks)
        if self._queue:
            self._arrived.set()

    @property
    def backlog(self) -> int:
        return len(self._queue)

    async def start(self) -> None:
        self._runners = [
            asyncio.create_task(self._run(), name=f"ebc-acks-{n}") for n in range(self._writers)
        ]

    async def stop(self, timeout: float = 30.0) -> None:
        if self._runners:
            self._queue.extend([None] * len(self._runners))
            self._arrived.set()
            running = asyncio.gather(*self._runners, return_exceptions=True)
            try:
                await asyncio.wait_for(asyncio.shield(running), timeout)
            except TimeoutError:
                log.warning("ack writers still busy after %.0f s; cancelling them", timeout)
                for runner in self._runners:
                    runner.cancel()
                await running
            self._runners = []
        await self.flush()
        await self._check_completion(force=True)

    def _take(self, first: AckReport) -> tuple[list[AckReport], bool]:
        """A batch starting with `first`, and whether the stop mark was reached."""
        batch = [first]
        while len(batch) < self._batch and self._queue:
            item = self._queue.popleft()
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            first = self._queue.popleft()
            if first is None:
                return
            if len(self._queue) < self._batch:
                await asyncio.sleep(self._interval)  # let a burst gather into one batch
            batch, stopping = self._take(first)
            await self._write(batch)
            if stopping:
                return

    async def flush(self) -> None:
        while self._queue:
            first = self._queue.popleft()
            if first is not None:
                await self._write(self._take(first)[0])

    async def _write(self, batch: list[AckReport]) -> None:
        rows = [a for a in batch if self._valid(a)]
        for attempt in range(1, 6):
            try:
                async with self._db.session() as session:
                    new = await repo.record_acks(session, acks=rows, now=self._clock())
                    await session.commit()
                break
            except StoreUnavailable as exc:
                # acks are kept in memory and retried; terminals also re-send unacked QoS 1
                log.warning("ack batch not written (attempt %d): %s", attempt, exc)
                await asyncio.sleep(min(5.0, 0.2 * 2**attempt))
        else:
            self._queue.extend(rows)
            self._arrived.set()
            return
        self.written += new
        if self._on_written:
            self._on_written(new)
        self._unchecked.update(a.alert_id for a in rows)
        await self._check_completion()

    async def _check_completion(self, *, force: bool = False) -> None:
        """Whether the acks complete a task: at most every `check_interval` while a burst
        is being drained, and always once the queue is empty, so the last ack of a task
        completes it without waiting for another."""
        if self._checking:  # another writer's check runs, and loops for these too
            return
        self._checking = True
        loop = asyncio.get_running_loop()
        try:
            while self._unchecked:
                due = loop.time() - self._last_check >= self._check_interval
                if not (force or due or not self._queue):
                    return
                alert_ids = sorted(self._unchecked)
                self._unchecked.clear()
                self._last_check = loop.time()
                try:
                    await check_acks_complete(self._db, alert_ids=alert_ids, clock=self._clock)
                except StoreUnavailable as exc:
                    log.warning("task completion not checked, will retry: %s", exc)
                    self._unchecked.update(alert_ids)
                    return
        finally:
            self._checking = False

    @staticmethod
    def _valid(ack: AckReport) -> bool:
        if ack.state not in ACK_STATES:
            log.warning("ack from %s dropped: unknown state %r", ack.target, ack.state)
            return False
        if ack.at is not None and ack.at.utcoffset() is None:
            log.warning("ack from %s dropped: naive time %s", ack.target, ack.at)
            return False
        return True
