"""An alert accepted while the fan-out is in the middle of an (empty) claim is claimed at
once, not after the poll interval: the wake-up must not be lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatcher.services import fanout as fanout_module
from dispatcher.services.fanout import Fanout, FanoutConfig
from dispatcher.store import repo
from dispatcher.store.db import Database
from tests.store.factories import make_alert, make_task


def _now() -> datetime:
    return datetime.now(UTC)


async def test_a_poke_during_a_claim_is_not_lost(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    fanout = Fanout(
        db=db, adapters={}, clock=_now, config=FanoutConfig(poll_interval=60.0, sweep_interval=60.0)
    )
    real_claim = repo.claim_due_tasks
    claimed: list[str] = []
    landed: list[asyncio.Task[None]] = []

    async def accept() -> None:  # commits after the claim's snapshot, then pokes
        async with db.session() as s:
            await repo.insert_alert(
                s,
                alert=make_alert(),
                tasks=[make_task(not_before=_now(), deadline=_now() + timedelta(hours=1))],
                events=[],
            )
            await s.commit()
        fanout.poke()

    async def claim(session: Any, **kwargs: Any) -> Any:
        tasks = await real_claim(session, **kwargs)
        if not landed:
            landed.append(asyncio.ensure_future(accept()))
            await asyncio.sleep(0.05)  # the claim is still in flight when the poke lands
            fanout.poke()
        claimed.extend(t.id for t in tasks)
        return tasks

    monkeypatch.setattr(fanout_module.repo, "claim_due_tasks", claim)
    await fanout.start()
    try:
        for _ in range(250):  # 5 s, far below the 60 s poll interval
            if claimed:
                break
            await asyncio.sleep(0.02)
        assert len(claimed) == 1
    finally:
        await fanout.stop()
        await asyncio.gather(*landed)
