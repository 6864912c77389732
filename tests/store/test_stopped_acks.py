"""A terminal's STOPPED ack (the stop of a cancelled broadcast) is stored and logged like any
other: the acks table refused the state until revision 0008, and the collector dropped it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from dispatcher.services.acks import AckCollector
from dispatcher.services.uplinks import UplinkService
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewAck
from protocols.codes import RegionCode
from protocols.terminal import terminal_pb2 as pb
from tests.store.factories import T0, make_alert, make_task
from tests.store.migrating import migrate

EBRID = "63415231000010314010401"


def _clock() -> dt.datetime:
    return T0


async def _cancel_alert(db: Database) -> str:
    async with db.session() as s:
        alert_id = await repo.insert_alert(
            s, alert=make_alert(msg_type=3), tasks=[make_task(targets=(EBRID,))], events=[]
        )
        await s.commit()
    return alert_id


async def test_a_terminals_stopped_ack_reaches_the_acks_and_the_log(db: Database) -> None:
    alert_id = await _cancel_alert(db)
    collector = AckCollector(db=db, clock=_clock, flush_interval=0.01)
    uplinks = UplinkService(
        db=db, acks=collector, adapters={}, jurisdiction=RegionCode("341523000000"), clock=_clock
    )
    await collector.start()
    stopped = pb.Ack(
        alert_id=alert_id,
        terminal_ebrid=EBRID,
        state=pb.ACK_STOPPED,
        command_id="c-7",
        at_unix=int(T0.timestamp()),
    )
    await uplinks.handle("ack", EBRID, stopped.SerializeToString())
    await collector.stop()
    async with db.session(readonly=True) as s:
        acks = await repo.acks_for_alert(s, alert_id=alert_id)
        log = await repo.log_for_alert(s, alert_id=alert_id)
        reached = await repo.count_reached(s, alert_id=alert_id)
    assert [(a.target, a.state, a.at) for a in acks] == [(EBRID, "stopped", T0)]
    assert [(r.target, r.event) for r in log if r.event.startswith("ack.")] == [
        (EBRID, "ack.stopped")
    ]
    assert reached == 1  # the stop reached it: a Cancel's coverage counts it


async def test_downgrade_drops_stopped_acks_and_keeps_the_rest_logged(db: Database) -> None:
    alert_id = await _cancel_alert(db)
    async with db.session() as s:
        await repo.record_acks(
            s,
            acks=[
                NewAck(alert_id=alert_id, target=EBRID, state="stopped", at=T0),
                NewAck(alert_id=alert_id, target="t-2", state="received", at=T0),
            ],
        )
        await s.commit()

    await migrate(db, "0007", down=True)
    async with db.session() as s:
        states = (await s.execute(text("SELECT target, state FROM acks"))).all()
        # the rebuilt table still logs what is inserted into it (its trigger came back)
        await repo.record_acks(
            s, acks=[NewAck(alert_id=alert_id, target="t-3", state="played", at=T0)]
        )
        await s.commit()
    assert [tuple(r) for r in states] == [("t-2", "received")]

    await migrate(db, "head")
    async with db.session() as s:
        assert (
            await repo.record_acks(
                s, acks=[NewAck(alert_id=alert_id, target=EBRID, state="stopped", at=T0)]
            )
            == 1
        )
        await s.commit()
        log = await repo.log_for_alert(s, alert_id=alert_id)
    assert sorted(r.event for r in log if r.event.startswith("ack.")) == [
        "ack.played",
        "ack.received",
        "ack.stopped",
        "ack.stopped",
    ]
