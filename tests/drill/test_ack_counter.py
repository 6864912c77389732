"""The drill's and the benchmarks' view of what the platform recorded: distinct targets with a
positive ack per alert, the same on both databases, and (on SQLite) read incrementally."""

from __future__ import annotations

from adapters.base import AckReport
from dispatcher.store import repo
from dispatcher.store.db import Database
from simulators.drill.platform import AckCounter
from tests.dbsupport import database_fixture
from tests.store.factories import T0

db = database_fixture()


async def _acks(db: Database, *acks: AckReport) -> None:
    async with db.session() as s:
        await repo.record_acks(s, acks=list(acks), now=T0)
        await s.commit()


async def test_counts_distinct_reached_targets_across_polls(db: Database) -> None:
    counter = AckCounter(str(db.url))
    counter.db = Database(db.url, connect_args=db.connect_args, run_migrations=False)
    await counter.start()
    try:
        await _acks(
            db,
            AckReport("a" * 32, "t-1", "verified"),
            AckReport("a" * 32, "t-1", "played"),
            AckReport("a" * 32, "t-2", "rejected"),
        )
        assert await counter.reached(["a" * 32]) == {"a" * 32: 1}
        await _acks(
            db, AckReport("a" * 32, "t-2", "verified"), AckReport("b" * 32, "t-9", "playing")
        )
        assert await counter.reached(["a" * 32]) == {"a" * 32: 2}
        # an alert first asked about later still counts the rows read before
        assert await counter.reached(["a" * 32, "b" * 32, "c" * 32]) == {"a" * 32: 2, "b" * 32: 1}
    finally:
        await counter.stop()
