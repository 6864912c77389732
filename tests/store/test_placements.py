"""The planner's in-memory inventory follows every write that moves a terminal, made by any
process, and is not re-read for heartbeats."""

from __future__ import annotations

from dispatcher.domain.planning import Bearer
from dispatcher.services.placements import Placements
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewTerminal
from tests.store.factories import T0


async def _upsert(db: Database, *terminals: NewTerminal) -> None:
    async with db.session() as s:
        await repo.upsert_terminals(s, terminals=list(terminals))
        await s.commit()


async def _read(db: Database, placements: Placements) -> list[tuple[str, str, str]]:
    async with db.session(readonly=True) as s:
        found = await placements.terminals(s)
    return [(t.ebrid, t.bearer.value, t.region.value) for t in found]


async def test_a_registration_or_a_move_is_planned_for_at_once(db: Database) -> None:
    placements = Placements()
    assert await _read(db, placements) == []
    await _upsert(db, NewTerminal(ebrid="t-2", bearer="ip", region="341523100000"))
    assert await _read(db, placements) == [("t-2", "ip", "341523100000")]
    # another process's writes go through the same version counter
    await _upsert(db, NewTerminal(ebrid="t-1", bearer="fm", region="341523101000"),
                  NewTerminal(ebrid="t-2", bearer="ip", region="341523102000"))
    assert await _read(db, placements) == [("t-1", "fm", "341523101000"),
                                           ("t-2", "ip", "341523102000")]


async def test_heartbeats_leave_the_version_and_the_copy_alone(db: Database) -> None:
    await _upsert(db, NewTerminal(ebrid="t-1", bearer="ip", region="341523100000"))
    async with db.session(readonly=True) as s:
        before = await repo.inventory_version(s)
    placements = Placements()
    first = await _read(db, placements)
    async with db.session() as s:
        await repo.touch_terminals(s, sightings=[("t-1", "online", T0, "1.2")])
        await s.commit()
    async with db.session(readonly=True) as s:
        assert await repo.inventory_version(s) == before > 0
        cached = await placements.terminals(s)
    assert [(t.ebrid, t.bearer) for t in cached] == [("t-1", Bearer.IP)] and first
