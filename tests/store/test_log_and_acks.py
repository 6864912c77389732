from __future__ import annotations

from datetime import timedelta

import pytest

from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewAck, NewLogEvent
from tests.store.factories import T0, make_alert, make_task


async def _alert(db: Database) -> tuple[str, str]:
    alert, task = make_alert(), make_task()
    async with db.session() as s:
        await repo.insert_alert(s, alert=alert, tasks=[task], events=[])
        await s.commit()
    return alert.id, task.id


async def test_append_log_skips_a_repeated_dedup_key(db: Database) -> None:
    alert_id, task_id = await _alert(db)
    outcome = NewLogEvent(alert_id=alert_id, task_id=task_id, target="t-1",
                          event="target.delivered", detail={"attempt": 1}, at=T0,
                          dedup_key=f"{task_id}:t-1:outcome")
    plain = NewLogEvent(alert_id=alert_id, event="alert.dispatching", at=T0)
    async with db.session() as s:
        assert await repo.append_log(s, events=[outcome, plain, outcome]) == 2
        await s.commit()
    async with db.session() as s:
        # Rows without a dedup_key are never duplicates of each other.
        assert await repo.append_log(s, events=[outcome, plain]) == 1
        assert await repo.append_log(s, events=[]) == 0
        await s.commit()
    async with db.session(readonly=True) as s:
        rows = await repo.log_for_alert(s, alert_id=alert_id)
        delivered = await repo.delivered_targets(s, task_id=task_id)
        timeline = await repo.alert_timeline(s, alert_id=alert_id)
    assert [r.event for r in rows] == ["target.delivered", "alert.dispatching",
                                       "alert.dispatching"]
    assert rows[0].detail == {"attempt": 1} and rows[0].at == T0
    assert rows[0].id < rows[1].id < rows[2].id
    assert delivered == ["t-1"]
    assert [r.event for r in timeline] == ["alert.dispatching", "alert.dispatching"]


async def test_log_page(db: Database) -> None:
    alert_id, _ = await _alert(db)
    events = [NewLogEvent(alert_id=alert_id, event=f"e{i}", at=T0 + timedelta(seconds=i))
              for i in range(25)]
    async with db.session() as s:
        assert await repo.append_log(s, events=events) == 25
        await s.commit()
    async with db.session(readonly=True) as s:
        page, total = await repo.log_page(s, alert_id=alert_id, offset=20, limit=10)
        empty, none = await repo.log_page(s, alert_id="unknown", offset=0, limit=10)
    assert total == 25 and [r.event for r in page] == ["e20", "e21", "e22", "e23", "e24"]
    assert (empty, none) == ([], 0)


async def test_record_acks_is_idempotent_and_logs_each_new_ack_once(db: Database) -> None:
    alert_id, _ = await _alert(db)
    acks = [
        NewAck(alert_id=alert_id, target="t-1", state="received", at=T0),
        NewAck(alert_id=alert_id, target="t-1", state="played", at=T0 + timedelta(seconds=5),
               detail={"volume": 80}),
        NewAck(alert_id=alert_id, target="t-2", state="received", at=T0),
        NewAck(alert_id=alert_id, target="t-2", state="received", at=T0),  # QoS 1 repeat
    ]
    async with db.session() as s:
        assert await repo.record_acks(s, acks=acks) == 3
        await s.commit()
    async with db.session() as s:
        assert await repo.record_acks(s, acks=acks) == 0
        more = [NewAck(alert_id=alert_id, target="t-2", state="played", at=T0)]
        assert await repo.record_acks(s, acks=[*acks, *more]) == 1
        await s.commit()
    async with db.session(readonly=True) as s:
        stored = await repo.acks_for_alert(s, alert_id=alert_id)
        log = await repo.log_for_alert(s, alert_id=alert_id)
    assert {(a.target, a.state) for a in stored} == {
        ("t-1", "received"), ("t-1", "played"), ("t-2", "received"), ("t-2", "played")}
    assert next(a for a in stored if a.state == "played" and a.target == "t-1").detail == {
        "volume": 80}
    # exactly one log row per stored ack, however often it came
    assert sorted((r.target, r.event) for r in log) == sorted(
        (t, f"ack.{st}") for t in ("t-1", "t-2") for st in ("received", "played"))
    assert all(r.event == f"ack.{r.detail['state']}" for r in log)
    played = next(r for r in log if r.target == "t-1" and r.event == "ack.played")
    assert played.detail == {"volume": 80, "state": "played"}
    assert played.at == T0 + timedelta(seconds=5) and played.task_id is None


async def test_unknown_ack_state_is_refused(db: Database) -> None:
    async with db.session() as s:
        with pytest.raises(ValueError, match="ack state"):
            await repo.record_acks(s, acks=[NewAck(alert_id="x", target="t", state="heard",
                                                   at=T0)])


async def test_log_delivered_writes_one_outcome_row_per_target_once(db: Database) -> None:
    alert_id, task_id = await _alert(db)
    targets = [f"t-{n:05d}" for n in range(2500)]
    async with db.session() as s:
        assert await repo.log_delivered(s, alert_id=alert_id, task_id=task_id,
                                        targets=targets[:2000], attempt=1, at=T0) == 2000
        # a retry re-sends everything: only the new targets are logged, with its attempt
        assert await repo.log_delivered(s, alert_id=alert_id, task_id=task_id,
                                        targets=targets, attempt=2, at=T0) == 500
        assert await repo.log_delivered(s, alert_id=alert_id, task_id=task_id, targets=[],
                                        attempt=3, at=T0) == 0
        await s.commit()
    async with db.session(readonly=True) as s:
        rows = await repo.log_for_alert(s, alert_id=alert_id)
        delivered = await repo.delivered_targets(s, task_id=task_id)
    assert delivered == targets
    assert [r.target for r in rows] == targets  # in the order given
    assert {r.event for r in rows} == {"target.delivered"} and rows[0].at == T0
    assert rows[0].dedup_key == f"{task_id}:t-00000:outcome" and rows[0].task_id == task_id
    assert rows[0].detail == {"attempt": 1} and rows[-1].detail == {"attempt": 2}
