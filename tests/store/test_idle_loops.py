"""The fan-out's deadline sweep and the silent-terminal expiry run twice a second; with
nothing to do they only read, so they never take SQLite's one write turn from the claim of
a newly accepted alert (they held it for tens of milliseconds once tasks piled up)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.base import SendReport
from dispatcher.services.fanout import Fanout, FanoutConfig
from dispatcher.services.uplinks import UplinkService
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewTerminal
from protocols.codes import RegionCode
from tests.store.factories import T0, make_alert, make_task
from tests.store.test_uplink_sightings import NoAcks

EBRID = "63415231000010314010401"


def _spy_sessions(db: Database, monkeypatch: pytest.MonkeyPatch, events: list[str]) -> None:
    """Note "read" or "write" in `events` as each session opens."""
    real = db.session

    @contextlib.asynccontextmanager
    async def session(*, readonly: bool = False) -> AsyncIterator[Any]:
        events.append("read" if readonly else "write")
        async with real(readonly=readonly) as s:
            yield s

    monkeypatch.setattr(db, "session", session)


async def test_the_sweep_writes_only_when_a_task_is_overdue(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.session() as s:
        alert_id = await repo.insert_alert(
            s,
            alert=make_alert(),
            tasks=[make_task(deadline=T0 + dt.timedelta(hours=1))],
            events=[],
        )
        await s.commit()
    now = T0
    fanout = Fanout(db=db, adapters={}, clock=lambda: now, config=FanoutConfig())
    opened: list[str] = []
    _spy_sessions(db, monkeypatch, opened)
    await fanout.sweep()
    assert opened and "write" not in opened  # looked, did not take the write turn

    now = T0 + dt.timedelta(hours=2)
    await fanout.sweep()
    assert "write" in opened
    async with db.session(readonly=True) as s:
        assert await repo.task_states(s, alert_id=alert_id) == ["timed_out"]


async def test_expiry_writes_only_when_a_terminal_fell_silent(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.session() as s:
        await repo.upsert_terminals(
            s,
            terminals=[
                NewTerminal(ebrid=EBRID, bearer="ip", region="341523100000", state="online")
            ],
        )
        await repo.touch_terminals(s, sightings=[(EBRID, "online", T0, None)])
        await s.commit()
    now = T0 + dt.timedelta(seconds=30)

    uplinks = UplinkService(
        db=db,
        acks=NoAcks(),
        adapters={},
        jurisdiction=RegionCode("341523000000"),
        clock=lambda: now,
        heartbeat_timeout=90,
    )
    opened: list[str] = []
    _spy_sessions(db, monkeypatch, opened)
    await uplinks.expire_silent()
    assert opened and "write" not in opened

    now = T0 + dt.timedelta(seconds=91)
    await uplinks.expire_silent()
    assert "write" in opened
    async with db.session(readonly=True) as s:
        terminal = await repo.get_terminal(s, ebrid=EBRID)
    assert terminal is not None and terminal.state == "offline"


async def test_a_claimed_task_reaches_its_adapter_before_any_write(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broadcast goes out first; only recording it needs the write turn."""
    order: list[str] = []

    class Adapter:
        async def send(self, transmission: Any) -> Any:
            order.append("send")
            return SendReport.all_delivered(transmission.targets)

    async with db.session() as s:
        await repo.insert_alert(
            s, alert=make_alert(), tasks=[make_task(adapter_ebrid="a-1")], events=[]
        )
        await s.commit()
    fanout = Fanout(db=db, adapters={"a-1": Adapter()}, clock=lambda: T0, config=FanoutConfig())
    async with db.session() as s:
        (task,) = await repo.claim_due_tasks(
            s, worker_id=fanout.worker_id, now=T0, lease_seconds=30, limit=1
        )
        await s.commit()
    _spy_sessions(db, monkeypatch, order)
    await fanout._execute(task)
    assert "send" in order and "write" not in order[: order.index("send")], order
