"""Tasks: claiming with leases, state updates, cancellation and the recovery queries.

A task's target list is stored apart (task_targets) and read only with whole records; state
changes and state reads never touch it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.store.models import TASK_TARGETS, TASKS
from dispatcher.store.records import TASK_STATES, TASK_TERMINAL_STATES, TaskRecord
from dispatcher.store.repo._common import as_tuple, checked, dialect_name, mapping, utcnow

_ORDER = (TASKS.c.priority, TASKS.c.created_at, TASKS.c.id)


def task_record(row: Row[Any], targets: Any) -> TaskRecord:
    m = mapping(row)
    return TaskRecord(
        id=m["id"], alert_id=m["alert_id"], adapter_ebrid=m["adapter_ebrid"],
        bearer=m["bearer"], regions=as_tuple(m["regions"]), targets=as_tuple(targets),
        state=m["state"], priority=m["priority"], attempts=m["attempts"],
        max_attempts=m["max_attempts"], not_before=m["not_before"],
        next_attempt_at=m["next_attempt_at"], deadline=m["deadline"],
        claimed_by=m["claimed_by"], lease_until=m["lease_until"], last_error=m["last_error"],
        created_at=m["created_at"], updated_at=m["updated_at"],
    )


async def _records(session: AsyncSession, rows: list[Row[Any]]) -> list[TaskRecord]:
    """Whole records for task rows, their target lists read in one statement."""
    if not rows:
        return []
    ids = [mapping(r)["id"] for r in rows]
    stmt = select(TASK_TARGETS.c.task_id, TASK_TARGETS.c.targets).where(
        TASK_TARGETS.c.task_id.in_(ids)
    )
    targets = {str(task_id): listed for task_id, listed in (await session.execute(stmt)).all()}
    return [task_record(r, targets.get(mapping(r)["id"], ())) for r in rows]


async def _sorted(session: AsyncSession, rows: list[Row[Any]]) -> list[TaskRecord]:
    # RETURNING gives rows in no promised order.
    records = await _records(session, rows)
    records.sort(key=lambda t: (t.priority, t.created_at, t.id))
    return records


def _unfinished() -> ColumnElement[bool]:
    return TASKS.c.state.not_in(sorted(TASK_TERMINAL_STATES))


def _due(now: datetime) -> ColumnElement[bool]:
    expired = or_(TASKS.c.lease_until.is_(None), TASKS.c.lease_until <= now)
    return and_(
        TASKS.c.next_attempt_at <= now,
        or_(TASKS.c.state == "planned", and_(TASKS.c.state == "sending", expired)),
    )


async def claim_due_tasks(
    session: AsyncSession, *, worker_id: str, now: datetime, lease_seconds: float, limit: int
) -> list[TaskRecord]:
    """Claim up to `limit` due tasks for `worker_id`, most urgent first.

    Due: planned, or sending under an expired lease (its worker died), with next_attempt_at
    <= now. Claimed tasks become sending with a lease and one more attempt. The claim holds
    once the caller commits; two claimers never receive the same task.
    """
    if limit <= 0:
        return []
    pick = select(TASKS.c.id).where(_due(now)).order_by(*_ORDER).limit(limit)
    if dialect_name(session) == "postgresql":
        # Rows another claimer has locked are skipped, not waited for.
        ids = list((await session.execute(pick.with_for_update(skip_locked=True))).scalars())
        if not ids:
            return []
        chosen: ColumnElement[bool] = TASKS.c.id.in_(ids)
    else:
        # SQLite has one writer at a time: this single UPDATE picks and claims atomically.
        chosen = TASKS.c.id.in_(pick)
    stmt = (
        update(TASKS)
        .where(chosen)
        .values(
            state="sending",
            claimed_by=worker_id,
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=TASKS.c.attempts + 1,
            updated_at=now,
        )
        .returning(*TASKS.c)
    )
    return await _sorted(session, list((await session.execute(stmt)).all()))


async def update_task(
    session: AsyncSession,
    *,
    task_id: str,
    state: str,
    next_attempt_at: datetime | None = None,
    last_error: str | None = None,
    release: bool = True,
    only_if_claimed_by: str | None = None,
    now: datetime | None = None,
) -> TaskRecord | None:
    """Move a task to `state`; None when it does not exist or (with `only_if_claimed_by`)
    is no longer this worker's claim, e.g. cancelled or re-claimed after a lease expired.

    `release` clears the claim; None for next_attempt_at or last_error keeps the stored value.
    """
    values: dict[str, Any] = {
        "state": checked(state, TASK_STATES, "task state"),
        "updated_at": now or utcnow(),
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if last_error is not None:
        values["last_error"] = last_error
    if release:
        values.update(claimed_by=None, lease_until=None)
    stmt = update(TASKS).where(TASKS.c.id == task_id)
    if only_if_claimed_by is not None:
        stmt = stmt.where(TASKS.c.claimed_by == only_if_claimed_by)
    row = (await session.execute(stmt.values(**values).returning(*TASKS.c))).first()
    return (await _records(session, [row]))[0] if row is not None else None


async def get_task(session: AsyncSession, *, task_id: str) -> TaskRecord | None:
    row = (await session.execute(select(TASKS).where(TASKS.c.id == task_id))).first()
    return (await _records(session, [row]))[0] if row is not None else None


async def task_claim(session: AsyncSession, *, task_id: str) -> tuple[str, str | None] | None:
    """(state, claimed_by): a light read for a worker checking its claim."""
    stmt = select(TASKS.c.state, TASKS.c.claimed_by).where(TASKS.c.id == task_id)
    row = (await session.execute(stmt)).first()
    return (str(row[0]), row[1]) if row is not None else None


async def task_states(session: AsyncSession, *, alert_id: str) -> list[str]:
    """The states of the alert's tasks: a light read."""
    stmt = select(TASKS.c.state).where(TASKS.c.alert_id == alert_id).order_by(*_ORDER)
    return [str(s) for s in (await session.execute(stmt)).scalars()]


async def sent_task_sizes(session: AsyncSession, *, alert_id: str) -> list[int]:
    """How many targets each of the alert's sent tasks has, counted by the database."""
    stmt = (
        select(func.json_array_length(TASK_TARGETS.c.targets))
        .join(TASKS, TASKS.c.id == TASK_TARGETS.c.task_id)
        .where(TASKS.c.alert_id == alert_id, TASKS.c.state == "sent")
    )
    return [int(n) for n in (await session.execute(stmt)).scalars()]


async def tasks_for_alert(session: AsyncSession, *, alert_id: str) -> list[TaskRecord]:
    stmt = select(TASKS).where(TASKS.c.alert_id == alert_id).order_by(*_ORDER)
    return await _records(session, list((await session.execute(stmt)).all()))


async def cancel_tasks(
    session: AsyncSession, *, alert_id: str, now: datetime
) -> list[TaskRecord]:
    """Cancel the alert's unfinished tasks (dropping their claims); return those cancelled."""
    stmt = (
        update(TASKS)
        .where(TASKS.c.alert_id == alert_id, _unfinished())
        .values(state="cancelled", claimed_by=None, lease_until=None, updated_at=now)
        .returning(*TASKS.c)
    )
    return await _sorted(session, list((await session.execute(stmt)).all()))


async def unfinished_tasks(session: AsyncSession) -> list[TaskRecord]:
    """Every task not in a terminal state: what a restarted dispatcher must carry on."""
    stmt = select(TASKS).where(_unfinished()).order_by(*_ORDER)
    return await _records(session, list((await session.execute(stmt)).all()))


async def release_worker_claims(
    session: AsyncSession, *, worker_id: str, now: datetime | None = None
) -> int:
    """Drop `worker_id`'s claims (clean shutdown); its sending tasks go back to planned."""
    stmt = (
        update(TASKS)
        .where(TASKS.c.claimed_by == worker_id)
        .values(
            state=case((TASKS.c.state == "sending", "planned"), else_=TASKS.c.state),
            claimed_by=None,
            lease_until=None,
            updated_at=now or utcnow(),
        )
        .returning(TASKS.c.id)
    )
    return len((await session.execute(stmt)).all())


async def any_past_deadline(session: AsyncSession, *, now: datetime) -> bool:
    """Whether `tasks_past_deadline` would find one: a light read, no target lists."""
    stmt = select(TASKS.c.id).where(_unfinished(), TASKS.c.deadline < now).limit(1)
    return (await session.execute(stmt)).first() is not None


async def tasks_past_deadline(session: AsyncSession, *, now: datetime) -> list[TaskRecord]:
    stmt = select(TASKS).where(_unfinished(), TASKS.c.deadline < now).order_by(*_ORDER)
    return await _records(session, list((await session.execute(stmt)).all()))


async def task_state_counts(session: AsyncSession) -> dict[str, int]:
    """Tasks per state, every state present (zero included) so gauges reset."""
    stmt = select(TASKS.c.state, func.count()).group_by(TASKS.c.state)
    counts = dict.fromkeys(sorted(TASK_STATES), 0)
    for state, count in (await session.execute(stmt)).all():
        counts[state] = int(count)
    return counts


async def due_task_count(session: AsyncSession, *, now: datetime) -> int:
    """How many tasks `claim_due_tasks` could hand out now: the fan-out queue depth."""
    stmt = select(func.count()).select_from(TASKS).where(_due(now))
    return int((await session.execute(stmt)).scalar_one())
