"""An alert's state follows its tasks: dispatching while any is open, then its outcome."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.domain.tasks import TaskState, is_final
from dispatcher.store import repo
from dispatcher.store.records import NewLogEvent

SETTLED = frozenset({"cancelled", "expired"})


def derive_alert_state(current: str, task_states: list[TaskState], *, now_waiting: bool) -> str:
    if current in SETTLED:
        return current
    if not task_states:
        return "completed" if current != "waiting" else current
    if not all(is_final(s) for s in task_states):
        if now_waiting and all(s is TaskState.PLANNED for s in task_states):
            return "waiting"
        return "dispatching"
    if all(s is TaskState.ACKED for s in task_states):
        return "completed"
    if any(s in (TaskState.ACKED, TaskState.PARTIAL) for s in task_states):
        return "partial"
    if all(s is TaskState.CANCELLED for s in task_states):
        return "cancelled"
    return "failed"


async def refresh_alert_state(session: AsyncSession, *, alert_id: str, now: dt.datetime) -> str:
    alert = await repo.get_alert(session, alert_id=alert_id)
    if alert is None:
        return "unknown"
    states = await repo.task_states(session, alert_id=alert_id)
    waiting = alert.start_at is not None and alert.start_at > now
    new = derive_alert_state(alert.state, [TaskState(s) for s in states], now_waiting=waiting)
    if new != alert.state:
        await repo.set_alert_state(session, alert_id=alert_id, state=new)
        await repo.append_log(
            session,
            events=[
                NewLogEvent(
                    alert_id=alert_id, event=f"alert.{new}", at=now, detail={"from": alert.state}
                )
            ],
        )
    return new
