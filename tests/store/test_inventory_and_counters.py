from __future__ import annotations

import asyncio
from datetime import timedelta

from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewAdapter, NewTerminal
from tests.store.factories import T0


async def test_adapters_upsert_and_read(db: Database) -> None:
    async with db.session() as s:
        first = await repo.upsert_adapter(
            s, adapter=NewAdapter(ebrid="fm-1", bearer="fm", regions=["320102000000"],
                                  config={"freq": 98.1}), now=T0)
        await repo.upsert_adapter(
            s, adapter=NewAdapter(ebrid="fm-1", bearer="fm", regions=["320100000000"],
                                  healthy=False), now=T0 + timedelta(minutes=1))
        await repo.upsert_adapter(s, adapter=NewAdapter(ebrid="ip-1", bearer="ip", regions=[]))
        await s.commit()
    assert first.config == {"freq": 98.1} and first.updated_at == T0
    async with db.session(readonly=True) as s:
        adapters = await repo.list_adapters(s)
        fm = await repo.get_adapter(s, ebrid="fm-1")
        assert await repo.get_adapter(s, ebrid="none") is None
    assert [a.ebrid for a in adapters] == ["fm-1", "ip-1"]
    assert fm is not None
    assert (fm.regions, fm.healthy, fm.config, fm.updated_at) == (
        ("320100000000",), False, {}, T0 + timedelta(minutes=1))


async def test_terminals_bulk_upsert_list_and_touch(db: Database) -> None:
    terminals = [
        NewTerminal(ebrid=f"t-{i:03d}", bearer="ip" if i % 2 else "fm",
                    region=f"3201{i % 3:02d}000000", password_hash="h")
        for i in range(30)
    ]
    async with db.session() as s:
        assert await repo.upsert_terminals(s, terminals=terminals, now=T0) == 30
        # A re-import without credentials keeps the stored hash and the creation time.
        await repo.upsert_terminal(s, terminal=NewTerminal(
            ebrid="t-001", bearer="ip", region="320105000000", name="renamed"),
            now=T0 + timedelta(days=1))
        seen = T0 + timedelta(minutes=3)
        assert await repo.touch_terminal(s, ebrid="t-001", state="online", last_seen=seen,
                                         firmware="2.1")
        assert not await repo.touch_terminal(s, ebrid="nope", state="online", last_seen=seen)
        await s.commit()
    async with db.session(readonly=True) as s:
        one = await repo.get_terminal(s, ebrid="t-001")
        county = await repo.list_terminals(s, region_prefix="320100")
        ip_county = await repo.list_terminals(s, region_prefix="320100", bearer="ip")
        everything = await repo.list_terminals(s)
        regions = await repo.terminal_regions(s, ebrids=["t-000", "t-001", "unknown"])
    assert one is not None
    assert (one.name, one.region, one.password_hash, one.created_at, one.state, one.firmware,
            one.last_seen) == ("renamed", "320105000000", "h", T0, "online", "2.1", seen)
    assert len(everything) == 30
    assert [t.ebrid for t in county] == [f"t-{i:03d}" for i in range(0, 30, 3)]
    assert all(t.bearer == "ip" for t in ip_county) and len(ip_county) == 5
    assert regions == {"t-000": "320100000000", "t-001": "320105000000"}


async def test_counters_increment_atomically_across_handles(db: Database) -> None:
    other = Database(db.url, connect_args=db.connect_args)
    await other.start()

    async def bump(handle: Database, name: str) -> int:
        async with handle.session() as s:
            value = await repo.next_counter(s, name=name)
            await s.commit()
        return value

    try:
        values = await asyncio.gather(
            *(bump(db if i % 2 else other, "ebmid:20250301") for i in range(40))
        )
        assert await bump(db, "ebdid:20250301") == 1
    finally:
        await other.stop()
    assert sorted(values) == list(range(1, 41))
