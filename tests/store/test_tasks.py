from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewTask
from tests.store.factories import T0, make_alert, make_task


async def _insert(db: Database, tasks: list[NewTask], identifier: str = "alert-1") -> str:
    alert = make_alert(identifier=identifier)
    async with db.session() as s:
        await repo.insert_alert(s, alert=alert, tasks=tasks, events=[])
        await s.commit()
    return alert.id


async def _claim(db: Database, worker: str, now_offset: float, *, limit: int = 10,
                 lease: float = 30) -> list[str]:
    async with db.session() as s:
        claimed = await repo.claim_due_tasks(
            s, worker_id=worker, now=T0 + timedelta(seconds=now_offset), lease_seconds=lease,
            limit=limit)
        await s.commit()
    return [t.id for t in claimed]


async def test_two_concurrent_claimers_share_nothing_and_miss_nothing(db: Database) -> None:
    tasks = [make_task(priority=i % 5) for i in range(200)]
    await _insert(db, tasks)
    # A second handle on the same database, as a second dispatcher process would have.
    other = Database(db.url, connect_args=db.connect_args)
    await other.start()

    async def claimer(handle: Database, worker: str) -> list[str]:
        got: list[str] = []
        while True:
            async with handle.session() as s:
                batch = await repo.claim_due_tasks(
                    s, worker_id=worker, now=T0 + timedelta(seconds=1), lease_seconds=60,
                    limit=7)
                # Hold the claim open a moment so the two transactions overlap.
                await asyncio.sleep(0.001)
                await s.commit()
            if not batch:
                return got
            assert all(t.claimed_by == worker and t.state == "sending" for t in batch)
            got.extend(t.id for t in batch)

    try:
        a, b = await asyncio.gather(claimer(db, "a"), claimer(other, "b"))
    finally:
        await other.stop()
    assert not set(a) & set(b)
    assert len(a) + len(b) == 200
    assert set(a) | set(b) == {t.id for t in tasks}


async def test_claim_order_lease_and_attempts(db: Database) -> None:
    urgent = make_task(priority=1)
    later = make_task(priority=5)
    future = make_task(priority=0, not_before=T0 + timedelta(hours=1))
    await _insert(db, [later, urgent, future])
    async with db.session() as s:
        claimed = await repo.claim_due_tasks(s, worker_id="w1", now=T0, lease_seconds=30,
                                             limit=10)
        await s.commit()
    assert [t.id for t in claimed] == [urgent.id, later.id]
    assert all(t.attempts == 1 and t.lease_until == T0 + timedelta(seconds=30) for t in claimed)
    assert await _claim(db, "w2", 10) == []  # leases still held; `future` not yet due


async def test_expired_lease_is_claimable_again(db: Database) -> None:
    task = make_task()
    await _insert(db, [task])
    assert await _claim(db, "w1", 0, lease=30) == [task.id]
    assert await _claim(db, "w2", 29, lease=30) == []
    assert await _claim(db, "w2", 31, lease=30) == [task.id]
    async with db.session() as s:
        stale = await repo.update_task(s, task_id=task.id, state="sent",
                                       only_if_claimed_by="w1")
        assert stale is None  # w1 lost its claim when the lease ran out
        current = await repo.update_task(s, task_id=task.id, state="sent",
                                         only_if_claimed_by="w2", last_error="boom")
        await s.commit()
    assert current is not None
    assert (current.state, current.attempts, current.claimed_by, current.lease_until,
            current.last_error) == ("sent", 2, None, None, "boom")


async def test_update_task_retry_keeps_claim_when_asked(db: Database) -> None:
    task = make_task()
    await _insert(db, [task])
    await _claim(db, "w1", 0)
    retry_at = T0 + timedelta(seconds=4)
    async with db.session() as s:
        held = await repo.update_task(s, task_id=task.id, state="sending", release=False)
        assert held is not None and held.claimed_by == "w1"
        again = await repo.update_task(s, task_id=task.id, state="planned",
                                       next_attempt_at=retry_at)
        assert again is not None and again.next_attempt_at == retry_at
        assert again.claimed_by is None
        with pytest.raises(ValueError, match="task state"):
            await repo.update_task(s, task_id=task.id, state="exploded")
        await s.commit()
    assert await _claim(db, "w1", 3) == []
    assert await _claim(db, "w1", 4) == [task.id]


async def test_cancel_unfinished_and_deadline_queries(db: Database) -> None:
    done, open_, sending = make_task(), make_task(), make_task(deadline=T0 + timedelta(minutes=1))
    alert_id = await _insert(db, [done, open_, sending])
    async with db.session() as s:
        await repo.update_task(s, task_id=done.id, state="acked")
        await s.commit()
    assert len(await _claim(db, "w1", 0, limit=1)) == 1  # one of the two open ones
    other = make_task()
    await _insert(db, [other], identifier="other")
    async with db.session() as s:
        unfinished = {t.id for t in await repo.unfinished_tasks(s)}
        assert unfinished == {open_.id, sending.id, other.id}
        overdue = await repo.tasks_past_deadline(s, now=T0 + timedelta(minutes=2))
        assert [t.id for t in overdue] == [sending.id]
        assert await repo.any_past_deadline(s, now=T0 + timedelta(minutes=2))
        assert not await repo.any_past_deadline(s, now=T0 - timedelta(minutes=2))
        cancelled = await repo.cancel_tasks(s, alert_id=alert_id, now=T0)
        await s.commit()
    assert {t.id for t in cancelled} == {open_.id, sending.id}
    assert all(t.state == "cancelled" and t.claimed_by is None for t in cancelled)
    async with db.session(readonly=True) as s:
        states = {t.id: t.state for t in await repo.tasks_for_alert(s, alert_id=alert_id)}
        assert states[done.id] == "acked"
        counts = await repo.task_state_counts(s)
    assert counts["cancelled"] == 2 and counts["acked"] == 1 and counts["planned"] == 1
    assert counts["timed_out"] == 0


async def test_release_worker_claims(db: Database) -> None:
    alert_id = await _insert(db, [make_task(), make_task()])
    await _claim(db, "w1", 0, limit=1)
    await _claim(db, "w2", 0, limit=1)
    async with db.session() as s:
        assert await repo.due_task_count(s, now=T0) == 0
        assert await repo.release_worker_claims(s, worker_id="w1") == 1
        await s.commit()
    async with db.session() as s:
        assert await repo.due_task_count(s, now=T0) == 1
        tasks = {t.claimed_by: t for t in await repo.tasks_for_alert(s, alert_id=alert_id)}
    assert set(tasks) == {None, "w2"}
    assert tasks[None].state == "planned" and tasks["w2"].state == "sending"


async def test_light_task_reads_leave_the_target_lists_alone(db: Database) -> None:
    big = make_task(targets=tuple(f"t-{n}" for n in range(3000)), state="sent")
    small = make_task(targets=("t-a", "t-b"), priority=2)
    alert_id = await _insert(db, [big, small])
    (claimed,) = await _claim(db, "w-1", 0)
    async with db.session(readonly=True) as s:
        assert await repo.task_claim(s, task_id=claimed) == ("sending", "w-1")
        assert await repo.task_claim(s, task_id="no-such-task") is None
        assert sorted(await repo.task_states(s, alert_id=alert_id)) == ["sending", "sent"]
        assert await repo.sent_task_sizes(s, alert_id=alert_id) == [3000]
        assert await repo.sent_task_sizes(s, alert_id="other") == []
