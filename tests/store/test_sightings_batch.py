"""A flush of sightings is one statement the database unpacks: each terminal gets its state
and last_seen, keeps its firmware unless a new one came, unknown EBRIDs change nothing, and
the same times come back that went in (SQLite compares them as fixed-width text)."""

from __future__ import annotations

import datetime as dt

import pytest

from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewTerminal
from tests.store.factories import T0

A, B, C = "63415231000010314010401", "63415231010010314010401", "63415231020010314010401"


async def _seed(db: Database) -> None:
    async with db.session() as s:
        await repo.upsert_terminals(
            s,
            terminals=[
                NewTerminal(ebrid=A, bearer="ip", region="341523100000", firmware="ebc-ref/1"),
                NewTerminal(ebrid=B, bearer="ip", region="341523101000", firmware="ebc-ref/1"),
            ],
        )
        await s.commit()


async def _stored(db: Database, ebrid: str) -> tuple[str, dt.datetime | None, str]:
    async with db.session(readonly=True) as s:
        t = await repo.get_terminal(s, ebrid=ebrid)
    assert t is not None
    return t.state, t.last_seen, t.firmware


async def test_a_batch_updates_each_terminal_once_and_keeps_firmware(db: Database) -> None:
    await _seed(db)
    later = T0 + dt.timedelta(seconds=3, microseconds=250)
    async with db.session() as s:
        await repo.touch_terminals(
            s,
            sightings=[
                (A, "online", T0, None),
                (B, "working", T0, "ebc-ref/2"),
                (C, "online", T0, None),  # not in the inventory: no row appears
                (A, "working", later, None),  # the later sighting of A wins
            ],
        )
        await s.commit()
    assert await _stored(db, A) == ("working", later, "ebc-ref/1")
    assert await _stored(db, B) == ("working", T0, "ebc-ref/2")
    async with db.session(readonly=True) as s:
        assert await repo.get_terminal(s, ebrid=C) is None
        states = await repo.terminal_states(s, ebrids=[A, B, C, A])
    assert states == {A: "working", B: "working"}


async def test_stored_times_order_like_the_times_they_stand_for(db: Database) -> None:
    await _seed(db)
    # A microsecond-free time and one a microsecond later: fixed-width text keeps the order.
    async with db.session() as s:
        await repo.touch_terminals(
            s,
            sightings=[
                (A, "online", T0, None),
                (B, "online", T0 + dt.timedelta(microseconds=1), None),
            ],
        )
        await s.commit()
    async with db.session() as s:
        stale = await repo.mark_silent_offline(
            s, cutoff=T0 + dt.timedelta(microseconds=1), bearer="ip"
        )
    assert stale == 1  # A only: B was seen exactly at the cutoff


async def test_a_naive_time_is_refused(db: Database) -> None:
    await _seed(db)
    async with db.session() as s:
        with pytest.raises(ValueError, match="not an aware UTC time"):
            await repo.touch_terminals(s, sightings=[(A, "online", T0.replace(tzinfo=None), None)])


async def test_states_of_a_county_sized_list_in_one_read(db: Database) -> None:
    await _seed(db)
    # more EBRIDs than SQLite allows bound parameters in one statement (32,766)
    asked = [f"6341523{n:016d}" for n in range(40_000)] + [B, A]
    async with db.session(readonly=True) as s:
        assert await repo.terminal_states(s, ebrids=asked) == {A: "unknown", B: "unknown"}
