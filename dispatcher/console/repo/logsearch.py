"""Dispatch-log search for the console: the log joined with alerts, tasks and terminals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.store.models import ALERTS, DISPATCH_LOG, TASKS, TERMINALS
from dispatcher.store.repo._common import as_dict

#: Outcome filter -> the log events it stands for (services.fanout, store.repo.acks).
OUTCOMES: dict[str, tuple[str, ...]] = {
    "delivered": ("target.delivered",),
    "failed": ("target.failed", "target.attempt_failed"),
    "acked": ("ack.received", "ack.verified", "ack.playing", "ack.played", "ack.stopped"),
    "refused": ("ack.rejected", "ack.failed"),
    "cancelled": ("alert.cancelled", "task.cancelled"),
}


@dataclass(frozen=True)
class LogQuery:
    alert_ids: Sequence[str]
    jurisdiction_prefix: str
    since: datetime | None = None
    until: datetime | None = None
    alert_id: str | None = None
    region_prefix: str | None = None
    terminal: str | None = None
    bearer: str | None = None
    outcome: str | None = None
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True)
class LogRow:
    id: int
    at: datetime
    alert_id: str
    title: str
    drill: bool
    task_id: str | None
    bearer: str | None
    target: str | None
    region: str | None
    event: str
    detail: dict[str, Any]


def _conditions(query: LogQuery) -> list[ColumnElement[bool]]:
    log, term = DISPATCH_LOG.c, TERMINALS.c
    conditions: list[ColumnElement[bool]] = [log.alert_id.in_(list(query.alert_ids))]
    where_target = or_(term.region.startswith(query.jurisdiction_prefix),
                       log.target.startswith(query.jurisdiction_prefix))
    # Alert-level rows have no target; per-target rows must lie inside the viewer's area.
    conditions.append(or_(log.target.is_(None), where_target))
    if query.since is not None:
        conditions.append(log.at >= query.since)
    if query.until is not None:
        conditions.append(log.at <= query.until)
    if query.alert_id:
        conditions.append(log.alert_id == query.alert_id)
    if query.region_prefix:
        conditions.append(or_(term.region.startswith(query.region_prefix),
                              log.target.startswith(query.region_prefix)))
    if query.terminal:
        conditions.append(log.target == query.terminal)
    if query.bearer:
        conditions.append(TASKS.c.bearer == query.bearer)
    if query.outcome:
        conditions.append(log.event.in_(OUTCOMES.get(query.outcome, (query.outcome,))))
    return conditions


def _joined() -> Any:
    return (
        DISPATCH_LOG.join(ALERTS, ALERTS.c.id == DISPATCH_LOG.c.alert_id)
        .outerjoin(TASKS, TASKS.c.id == DISPATCH_LOG.c.task_id)
        .outerjoin(TERMINALS, TERMINALS.c.ebrid == DISPATCH_LOG.c.target)
    )


async def search_log(session: AsyncSession, *, query: LogQuery) -> tuple[list[LogRow], int]:
    if not query.alert_ids:
        return [], 0
    conditions = _conditions(query)
    count = select(func.count()).select_from(_joined()).where(and_(*conditions))
    total = int((await session.execute(count)).scalar_one())
    stmt = (
        select(
            DISPATCH_LOG.c.id, DISPATCH_LOG.c.at, DISPATCH_LOG.c.alert_id, ALERTS.c.title,
            ALERTS.c.drill, DISPATCH_LOG.c.task_id, TASKS.c.bearer, DISPATCH_LOG.c.target,
            TERMINALS.c.region, DISPATCH_LOG.c.event, DISPATCH_LOG.c.detail,
        )
        .select_from(_joined())
        .where(and_(*conditions))
        .order_by(DISPATCH_LOG.c.id.desc())
        .offset(max(query.offset, 0))
        .limit(max(query.limit, 0))
    )
    rows = [
        LogRow(
            id=int(r.id), at=r.at, alert_id=r.alert_id, title=r.title, drill=bool(r.drill),
            task_id=r.task_id, bearer=r.bearer, target=r.target, region=r.region,
            event=r.event, detail=dict(as_dict(r.detail)),
        )
        for r in (await session.execute(stmt)).all()
    ]
    return rows, total
