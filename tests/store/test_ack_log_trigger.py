"""Revision 0007: the database writes each new ack's dispatch-log row itself, exactly once,
whoever inserts the ack; a downgrade gives the rows logged meanwhile the dedup keys that
revision 0006's code checks, and an upgrade brings the trigger back."""

from __future__ import annotations

from sqlalchemy import text

from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewAck
from tests.store.factories import T0, make_alert, make_task
from tests.store.migrating import migrate

RAW_ACK = text(
    "INSERT INTO acks (alert_id, target, state, detail, at) "
    'VALUES (:alert_id, :target, :state, \'{"command_id": "c-9"}\', :at) '
    "ON CONFLICT (alert_id, target, state) DO NOTHING"
)


async def _alert(db: Database) -> str:
    async with db.session() as s:
        alert_id = await repo.insert_alert(
            s, alert=make_alert(), tasks=[make_task(targets=("t-1", "t-2"))], events=[]
        )
        await s.commit()
    return alert_id


async def _log(db: Database, alert_id: str) -> list[tuple[str | None, str, str | None]]:
    async with db.session(readonly=True) as s:
        rows = await repo.log_for_alert(s, alert_id=alert_id)
    return sorted((r.target, r.event, r.dedup_key) for r in rows if r.event.startswith("ack."))


async def test_an_ack_inserted_by_any_statement_is_logged_once(db: Database) -> None:
    alert_id = await _alert(db)
    params = {"alert_id": alert_id, "target": "t-1", "state": "verified", "at": T0}
    async with db.session() as s:
        await s.execute(RAW_ACK, params)
        await s.execute(RAW_ACK, params)  # a QoS 1 repeat: no new ack, no new log row
        await s.commit()
    async with db.session(readonly=True) as s:
        (row,) = await repo.log_for_alert(s, alert_id=alert_id)
    assert (row.target, row.event, row.task_id, row.dedup_key) == (
        "t-1",
        "ack.verified",
        None,
        None,
    )
    assert row.detail == {"command_id": "c-9", "state": "verified"} and row.at == T0


async def test_a_batch_is_logged_in_ack_order_and_rolled_back_with_it(db: Database) -> None:
    alert_id = await _alert(db)
    acks = [NewAck(alert_id=alert_id, target=t, state="played", at=T0) for t in ("t-2", "t-1")]
    async with db.session() as s:
        assert await repo.record_acks(s, acks=acks) == 2
        await s.rollback()
    assert await _log(db, alert_id) == []
    async with db.session() as s:
        assert await repo.record_acks(s, acks=acks) == 2
        await s.commit()
    async with db.session(readonly=True) as s:
        rows = await repo.log_for_alert(s, alert_id=alert_id)
    assert [r.target for r in rows] == ["t-1", "t-2"]  # the batch's one order, by id


async def test_downgrade_keys_the_logged_acks_and_upgrade_restores_the_trigger(
    db: Database,
) -> None:
    alert_id = await _alert(db)
    first = [
        NewAck(alert_id=alert_id, target="t-1", state=st, at=T0) for st in ("verified", "played")
    ]
    async with db.session() as s:
        await repo.record_acks(s, acks=first)
        await s.commit()

    await migrate(db, "0006", down=True)
    assert await _log(db, alert_id) == [
        ("t-1", "ack.played", f"{alert_id}:t-1:ack:played"),
        ("t-1", "ack.verified", f"{alert_id}:t-1:ack:verified"),
    ]
    async with db.session() as s:  # no trigger at 0006: its code wrote the log row itself
        await s.execute(
            RAW_ACK, {"alert_id": alert_id, "target": "t-2", "state": "verified", "at": T0}
        )
        await s.commit()
    assert len(await _log(db, alert_id)) == 2

    await migrate(db, "head")
    async with db.session() as s:
        more = [*first, NewAck(alert_id=alert_id, target="t-2", state="played", at=T0)]
        assert await repo.record_acks(s, acks=more) == 1
        await s.commit()
    assert await _log(db, alert_id) == [
        ("t-1", "ack.played", f"{alert_id}:t-1:ack:played"),
        ("t-1", "ack.verified", f"{alert_id}:t-1:ack:verified"),
        ("t-2", "ack.played", None),
    ]
