"""The AckCollector: batched, idempotent writes that complete tasks, and a stop that finishes
the batch in hand instead of cancelling it inside a write transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.base import AckReport
from dispatcher.services.acks import AckCollector
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewLogEvent
from tests.store.factories import T0, make_alert, make_task


def _clock() -> datetime:
    return datetime.now(UTC)


async def _sent_alert(db: Database, targets: tuple[str, ...]) -> tuple[str, str]:
    alert, task = make_alert(), make_task(targets=targets, state="sent")
    async with db.session() as s:
        await repo.insert_alert(s, alert=alert, tasks=[task], events=[])
        await s.commit()
    return alert.id, task.id


async def _until(predicate: object, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)


async def _task_state(db: Database, task_id: str) -> str:
    async with db.session(readonly=True) as s:
        task = await repo.get_task(s, task_id=task_id)
    assert task is not None
    return task.state


async def test_the_last_target_to_ack_completes_the_task(db: Database) -> None:
    alert_id, task_id = await _sent_alert(db, ("t-1", "t-2", "t-3"))
    collector = AckCollector(db=db, clock=_clock, flush_interval=0.01)
    await collector.start()
    try:
        await collector.submit(
            [
                AckReport(alert_id, "t-1", "verified"),
                AckReport(alert_id, "t-2", "played"),
                AckReport(alert_id, "t-3", "rejected"),
            ]
        )
        await _until(lambda: collector.written == 3)
        assert collector.written == 3
        assert await _task_state(db, task_id) == "sent"  # a refusal is not a receipt
        await collector.submit([AckReport(alert_id, "t-3", "verified")])
        await _until(lambda: collector.written == 4)
        for _ in range(500):
            if await _task_state(db, task_id) == "acked":
                break
            await asyncio.sleep(0.02)
        assert await _task_state(db, task_id) == "acked"
    finally:
        await collector.stop()


async def test_stop_mid_burst_keeps_every_ack_and_the_database_writable(db: Database) -> None:
    targets = tuple(f"t-{n}" for n in range(3000))
    alert_id, task_id = await _sent_alert(db, targets)
    collector = AckCollector(db=db, clock=_clock, batch_size=250, flush_interval=0.01)
    await collector.start()
    await collector.submit([AckReport(alert_id, t, "verified") for t in targets])
    await asyncio.sleep(0)  # the writer takes its first batch
    await collector.stop()
    assert collector.written == len(targets) and collector.backlog == 0
    async with db.session() as s:  # no writer left holding SQLite's lock
        await repo.append_log(s, events=[NewLogEvent(alert_id=alert_id, event="probe", at=T0)])
        await s.commit()
    async with db.session(readonly=True) as s:
        assert await repo.count_reached(s, alert_id=alert_id) == len(targets)
    assert await _task_state(db, task_id) == "acked"


async def test_an_invalid_ack_is_dropped_and_its_batch_kept(db: Database) -> None:
    alert_id, _ = await _sent_alert(db, ("t-1", "t-2"))
    collector = AckCollector(db=db, clock=_clock, flush_interval=0.01)
    await collector.start()
    await collector.submit(
        [
            AckReport(alert_id, "t-1", "heard"),
            AckReport(alert_id, "t-1", "verified", at=datetime(2025, 3, 1, 8, 0)),  # naive
            AckReport(alert_id, "t-2", "verified"),
        ]
    )
    await collector.stop()
    async with db.session(readonly=True) as s:
        acks = await repo.acks_for_alert(s, alert_id=alert_id)
    assert [(a.target, a.state) for a in acks] == [("t-2", "verified")]


async def test_record_acks_stamps_untimed_acks_and_refuses_naive_times(db: Database) -> None:
    alert_id, _ = await _sent_alert(db, ("t-1",))
    now = T0 + timedelta(minutes=3, microseconds=250)
    async with db.session() as s:
        assert await repo.record_acks(s, acks=[AckReport(alert_id, "t-1", "played")], now=now) == 1
        with pytest.raises(ValueError, match="aware UTC"):
            await repo.record_acks(s, acks=[AckReport(alert_id, "t-1", "verified")])
        await s.commit()
    async with db.session(readonly=True) as s:
        (ack,) = await repo.acks_for_alert(s, alert_id=alert_id)
        reached = await repo.reached_targets_of(s, alert_id=alert_id)
    assert ack.at == now and reached == {"t-1"}


async def test_concurrent_writers_lose_and_repeat_nothing(db: Database) -> None:
    targets = tuple(f"t-{n}" for n in range(2000))
    alert_id, task_id = await _sent_alert(db, targets)
    collector = AckCollector(db=db, clock=_clock, batch_size=300, flush_interval=0.01, writers=3)
    await collector.start()
    burst = [AckReport(alert_id, t, s) for s in ("verified", "played") for t in targets]
    await collector.submit(burst + burst[:500])  # QoS 1 redeliveries across batches
    await _until(lambda: collector.backlog == 0 and collector.written == len(burst))
    await collector.stop()
    assert collector.written == len(burst)
    async with db.session(readonly=True) as s:
        acks = await repo.acks_for_alert(s, alert_id=alert_id)
        log = await repo.log_for_alert(s, alert_id=alert_id)
    assert len(acks) == len(burst) and len([r for r in log if r.event.startswith("ack.")]) == len(
        burst
    )
    assert await _task_state(db, task_id) == "acked"
