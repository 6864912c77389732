"""Sightings reach the inventory without rewriting every terminal on every flush: a state
change or a stale last_seen is written, a repeat within a quarter of the timeout is not."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dispatcher.services.uplinks import UplinkService
from dispatcher.store import repo
from dispatcher.store.db import Database
from protocols.codes import RegionCode
from protocols.terminal import terminal_pb2 as pb
from tests.store.factories import T0

EBRID = "63415231000010314010401"


class NoAcks:
    async def submit(self, acks: Any) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def _ack(state: int) -> bytes:
    return pb.Ack(alert_id="a" * 32, terminal_ebrid=EBRID, state=state).SerializeToString()


async def _row(db: Database) -> tuple[str, dt.datetime | None]:
    async with db.session(readonly=True) as s:
        terminal = await repo.get_terminal(s, ebrid=EBRID)
    assert terminal is not None
    return terminal.state, terminal.last_seen


async def test_repeats_are_coalesced_and_changes_written(db: Database) -> None:
    clock = Clock()
    uplinks = UplinkService(db=db, acks=NoAcks(), adapters={},
                            jurisdiction=RegionCode("341523000000"), clock=clock,
                            heartbeat_timeout=80.0)
    status = pb.Status(terminal_ebrid=EBRID, online=True).SerializeToString()
    await uplinks.handle("status", EBRID, status)
    await uplinks.flush()
    assert await _row(db) == ("online", T0)

    clock.now = T0 + dt.timedelta(seconds=5)
    await uplinks.handle("ack", EBRID, _ack(pb.ACK_VERIFIED))
    await uplinks.flush()
    assert await _row(db) == ("working", clock.now)  # a change of state: written

    clock.now = T0 + dt.timedelta(seconds=6)
    await uplinks.handle("ack", EBRID, _ack(pb.ACK_PLAYING))
    await uplinks.flush()
    assert await _row(db) == ("working", T0 + dt.timedelta(seconds=5))  # a repeat: skipped

    clock.now = T0 + dt.timedelta(seconds=26)  # more than 80 / 4 s since the last write
    await uplinks.handle("ack", EBRID, _ack(pb.ACK_PLAYING))
    await uplinks.flush()
    assert await _row(db) == ("working", clock.now)

    clock.now = T0 + dt.timedelta(seconds=27)
    await uplinks.handle("ack", EBRID, _ack(pb.ACK_PLAYED))
    await uplinks.flush()
    assert await _row(db) == ("online", clock.now)


async def test_acks_are_taken_without_a_task_and_refusals_logged(db: Database) -> None:
    from dispatcher.services.acks import AckCollector

    collector = AckCollector(db=db, clock=Clock())
    uplinks = UplinkService(db=db, acks=collector, adapters={},
                            jurisdiction=RegionCode("341523000000"), clock=Clock())
    assert uplinks.receive("ack", EBRID, _ack(pb.ACK_VERIFIED)) is None
    assert collector.backlog == 1
    refused = pb.Ack(alert_id="a" * 32, terminal_ebrid=EBRID, state=pb.ACK_REJECTED,
                     command_id="c-1", reason="forged").SerializeToString()
    rest = uplinks.receive("ack", EBRID, refused)
    assert rest is not None and collector.backlog == 2
    await rest
    async with db.session(readonly=True) as s:
        rows = await repo.log_for_alert(s, alert_id="a" * 32)
    assert [(r.event, r.target, r.detail["reason"]) for r in rows] == [
        ("terminal.rejected", EBRID, "forged")]
    # a body that does not decode is counted and dropped, never raised into the link
    assert uplinks.receive("ack", EBRID, b"\xff\xff") is None and uplinks.ignored == 1
