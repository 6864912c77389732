"""Revision 0006 moves each task's target list into task_targets and back on downgrade,
keeping every list; state changes afterwards leave the list alone."""

from __future__ import annotations

import json

from sqlalchemy import text

from dispatcher.store import repo
from dispatcher.store.db import Database
from tests.store.factories import T0, make_alert, make_task
from tests.store.migrating import migrate

TARGETS = tuple(f"6341523{n:016d}" for n in range(3000))


async def test_target_lists_survive_a_downgrade_and_an_upgrade(db: Database) -> None:
    big, small = make_task(targets=TARGETS), make_task(targets=("t-1",))
    async with db.session() as s:
        alert_id = await repo.insert_alert(s, alert=make_alert(), tasks=[big, small], events=[])
        await s.commit()

    await migrate(db, "0005", down=True)
    async with db.session(readonly=True) as s:
        rows = (await s.execute(text("SELECT id, targets FROM tasks"))).all()
    stored = {task_id: tuple(json.loads(t) if isinstance(t, str) else t) for task_id, t in rows}
    assert stored == {big.id: TARGETS, small.id: ("t-1",)}

    await migrate(db, "head")
    async with db.session() as s:
        tasks = await repo.tasks_for_alert(s, alert_id=alert_id)
        assert {t.id: t.targets for t in tasks} == {big.id: TARGETS, small.id: ("t-1",)}
        claimed = await repo.claim_due_tasks(
            s, worker_id="w", now=T0, lease_seconds=30, limit=5
        )
        sent = await repo.update_task(s, task_id=big.id, state="sent", now=T0)
        await s.commit()
    assert {t.id: t.targets for t in claimed} == {big.id: TARGETS, small.id: ("t-1",)}
    assert sent is not None and sent.targets == TARGETS
    async with db.session(readonly=True) as s:
        assert await repo.sent_task_sizes(s, alert_id=alert_id) == [len(TARGETS)]
        assert (await repo.get_task(s, task_id=small.id)).targets == ("t-1",)  # type: ignore[union-attr]
