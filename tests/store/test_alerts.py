from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Table, func, select

from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.errors import DuplicateAlert
from dispatcher.store.models import ALERTS, DISPATCH_LOG, TASKS
from dispatcher.store.records import AlertRecord, NewLogEvent
from tests.store.factories import T0, make_alert, make_task


async def _count(db: Database, table: Table) -> int:
    async with db.session(readonly=True) as s:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())


async def test_alert_plan_and_log_commit_together(db: Database) -> None:
    alert = make_alert()
    tasks = [make_task(), make_task(adapter_ebrid="fake-2", priority=2)]
    events = [NewLogEvent(alert_id=alert.id, event="alert.accepted", at=T0)]
    async with db.session() as s:
        assert await repo.insert_alert(s, alert=alert, tasks=tasks, events=events) == alert.id
        await s.commit()
    async with db.session(readonly=True) as s:
        stored = await repo.get_alert(s, alert_id=alert.id)
        planned = await repo.tasks_for_alert(s, alert_id=alert.id)
        log = await repo.log_for_alert(s, alert_id=alert.id)
    assert isinstance(stored, AlertRecord)
    assert stored.body == alert.body
    assert stored.texts == (("zho", "暴雨红色预警", "请注意防范"),)
    assert stored.area_codes == ("320102000000",) and stored.state == "accepted"
    assert [t.adapter_ebrid for t in planned] == ["fake-1", "fake-2"]
    assert all(t.state == "planned" and t.attempts == 0 and t.next_attempt_at == T0
               for t in planned)
    assert [e.event for e in log] == ["alert.accepted"]


async def test_rollback_leaves_nothing(db: Database) -> None:
    alert = make_alert()
    async with db.session() as s:
        await repo.insert_alert(s, alert=alert, tasks=[make_task()],
                                events=[NewLogEvent(alert_id=alert.id, event="alert.accepted")])
        await s.rollback()
    async with db.session() as s:
        # Leaving without commit rolls back too.
        await repo.insert_alert(s, alert=make_alert(identifier="other"), tasks=[make_task()],
                                events=[])
    for table in (ALERTS, TASKS, DISPATCH_LOG):
        assert await _count(db, table) == 0


async def test_sender_and_identifier_are_unique(db: Database) -> None:
    async with db.session() as s:
        await repo.insert_alert(s, alert=make_alert(), tasks=[], events=[])
        await s.commit()
    with pytest.raises(DuplicateAlert) as caught:
        async with db.session() as s:
            await repo.insert_alert(s, alert=make_alert(), tasks=[], events=[])
    assert caught.value.identifier == "alert-1"
    async with db.session() as s:
        await repo.insert_alert(s, alert=make_alert(sender="another"), tasks=[], events=[])
        await s.commit()
        found = await repo.find_alert(s, sender="another", identifier="alert-1")
    assert found is not None
    assert await _count(db, ALERTS) == 2


async def test_aware_datetimes_round_trip_as_utc(db: Database) -> None:
    beijing = timezone(timedelta(hours=8))
    start = datetime(2025, 3, 1, 16, 30, 15, 123456, tzinfo=beijing)
    alert = make_alert(start_at=start, end_at=None, created_at=start)
    async with db.session() as s:
        await repo.insert_alert(s, alert=alert, tasks=[], events=[])
        await s.commit()
    async with db.session(readonly=True) as s:
        stored = await repo.get_alert(s, alert_id=alert.id)
    assert stored is not None
    assert stored.start_at == start and stored.created_at == start
    assert stored.start_at is not None and stored.start_at.tzinfo == UTC
    assert stored.start_at.hour == 8 and stored.start_at.microsecond == 123456
    assert stored.end_at is None


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_alert(start_at=datetime(2025, 3, 1, 8, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        make_task(deadline=datetime(2025, 3, 1, 8, 0))


async def test_list_alerts_filters_pages_and_counts(db: Database) -> None:
    async with db.session() as s:
        for i in range(5):
            await repo.insert_alert(
                s,
                alert=make_alert(identifier=f"a{i}", drill=i % 2 == 1, msg_type=3 if i % 2 else 1,
                                 event_type="11B03" if i < 3 else "10000",
                                 created_at=T0 + timedelta(minutes=i)),
                tasks=[], events=[],
            )
        await s.commit()
    async with db.session(readonly=True) as s:
        page, total = await repo.list_alerts(s, limit=2)
        assert total == 5 and [a.identifier for a in page] == ["a4", "a3"]
        page, total = await repo.list_alerts(s, offset=4, limit=2)
        assert total == 5 and [a.identifier for a in page] == ["a0"]
        drills, total = await repo.list_alerts(s, drill=True)
        assert total == 2 and {a.identifier for a in drills} == {"a1", "a3"}
        window, total = await repo.list_alerts(
            s, since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3)
        )
        assert [a.identifier for a in window] == ["a2", "a1"]
        typed, total = await repo.list_alerts(s, event_type="10000", state="accepted")
        assert total == 2 and {a.identifier for a in typed} == {"a3", "a4"}
        none, total = await repo.list_alerts(s, state="cancelled")
        assert none == [] and total == 0
        with pytest.raises(ValueError, match="alert state"):
            await repo.list_alerts(s, state="bogus")


async def test_set_alert_state(db: Database) -> None:
    first, second = make_alert(), make_alert(identifier="update")
    async with db.session() as s:
        await repo.insert_alert(s, alert=first, tasks=[], events=[])
        await repo.insert_alert(s, alert=second, tasks=[], events=[])
        later = T0 + timedelta(minutes=5)
        assert await repo.set_alert_state(s, alert_id=first.id, state="cancelled",
                                          superseded_by=second.id, now=later)
        assert not await repo.set_alert_state(s, alert_id="missing", state="failed")
        await s.commit()
    async with db.session(readonly=True) as s:
        stored = await repo.get_alert(s, alert_id=first.id)
    assert stored is not None
    assert (stored.state, stored.superseded_by, stored.updated_at) == (
        "cancelled", second.id, later)
