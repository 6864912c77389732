"""SQLite WAL checkpoints run in the background, so no commit pays for copying a county
broadcast's delivery rows into the database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from dispatcher.store import repo
from dispatcher.store.db import Database
from tests.store.factories import T0, make_alert, make_task


async def test_background_checkpoints_replace_the_commit_time_ones(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/ebc.db", checkpoint_interval=0.05)
    await db.start()
    try:
        alert, task = make_alert(), make_task()
        async with db.session() as s:
            await repo.insert_alert(s, alert=alert, tasks=[task], events=[])
            await repo.log_delivered(s, alert_id=alert.id, task_id=task.id,
                                     targets=[f"t-{n}" for n in range(5000)], attempt=1, at=T0)
            await s.commit()
        async with db.session(readonly=True) as s:
            assert (await s.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0
        for _ in range(200):
            if db.checkpoints >= 2:
                break
            await asyncio.sleep(0.02)
        assert db.checkpoints >= 2
        async with db.session(readonly=True) as s:
            # everything committed is now in the database file: nothing left to copy
            busy, frames, copied = (await s.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))).one()
            assert busy == 0 and frames == copied
    finally:
        await db.stop()
    again = Database(f"sqlite+aiosqlite:///{tmp_path}/ebc.db")
    await again.start()
    try:
        async with again.session(readonly=True) as s:
            assert len(await repo.delivered_targets(s, task_id=task.id)) == 5000
            # a handle without background checkpoints keeps SQLite's own
            assert (await s.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 1000
    finally:
        await again.stop()
