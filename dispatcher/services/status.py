"""Read models for the status API: an alert's state, coverage and timeline, and its log."""

from __future__ import annotations

import json
from typing import Any

from dispatcher.domain.coverage import TaskView, brd_state_code, summarise
from dispatcher.domain.tasks import TaskState
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import AlertRecord, LogRecord


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def alert_summary(alert: AlertRecord) -> dict[str, Any]:
    return {
        "id": alert.id,
        "identifier": alert.identifier,
        "sender": alert.sender,
        "ebmid": alert.ebmid,
        "msg_type": alert.msg_type,
        "drill": alert.drill,
        "event_type": alert.event_type,
        "severity": alert.severity,
        "title": alert.title,
        "state": alert.state,
        "created_at": _iso(alert.created_at),
        "start": _iso(alert.start_at),
        "end": _iso(alert.end_at),
        "superseded_by": alert.superseded_by,
    }


async def list_alerts(db: Database, **filters: Any) -> dict[str, Any]:
    async with db.session() as session:
        items, total = await repo.list_alerts(session, **filters)
    return {
        "items": [alert_summary(a) for a in items],
        "total": total,
        "offset": filters.get("offset", 0),
        "limit": filters.get("limit", 50),
    }


async def alert_status(db: Database, *, alert_id: str) -> dict[str, Any] | None:
    async with db.session() as session:
        alert = await repo.get_alert(session, alert_id=alert_id)
        if alert is None:
            return None
        tasks = await repo.tasks_for_alert(session, alert_id=alert_id)
        acks = await repo.acks_for_alert(session, alert_id=alert_id)
        terminals = await repo.terminal_regions(
            session, ebrids=sorted({t for task in tasks for t in task.targets})
        )
        timeline = await repo.alert_timeline(session, alert_id=alert_id)
    views = [TaskView(t.id, t.bearer, TaskState(t.state), tuple(t.targets)) for t in tasks]
    coverage = summarise(views, [(a.target, a.state) for a in acks], region_of=terminals)
    waiting = alert.state == "waiting"
    return {
        **alert_summary(alert),
        "targets": alert.targets,
        "dropped_targets": alert.dropped_targets,
        "area_codes": alert.area_codes,
        "references": alert.references,
        "brd_state_code": int(
            brd_state_code(cancelled=alert.state == "cancelled", waiting=waiting, tasks=views)
        ),
        "targeted": coverage.overall.targeted,
        "acked": coverage.overall.acked,
        "coverage": coverage.overall.coverage,
        "by_bearer": {k: v.as_dict() for k, v in coverage.by_bearer.items()},
        "by_region": {k: v.as_dict() for k, v in coverage.by_region.items()},
        "not_reached": list(coverage.not_reached[:1000]),
        "refused": list(coverage.refused[:1000]),
        "tasks": [
            {
                "id": t.id,
                "adapter": t.adapter_ebrid,
                "bearer": t.bearer,
                "state": t.state,
                "regions": t.regions,
                "targets": len(t.targets),
                "attempts": t.attempts,
                "deadline": _iso(t.deadline),
                "last_error": t.last_error,
            }
            for t in tasks
        ],
        "timeline": [_log_item(e) for e in timeline],
    }


def _log_item(entry: LogRecord) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": _iso(entry.at),
        "alert_id": entry.alert_id,
        "task_id": entry.task_id,
        "target": entry.target,
        "event": entry.event,
        "detail": entry.detail,
        "detail_json": json.dumps(entry.detail, ensure_ascii=False, sort_keys=True),
    }


async def log_page(
    db: Database, *, alert_id: str, offset: int, limit: int
) -> dict[str, Any] | None:
    async with db.session() as session:
        if await repo.get_alert(session, alert_id=alert_id) is None:
            return None
        items, total = await repo.log_page(session, alert_id=alert_id, offset=offset, limit=limit)
    return {
        "items": [_log_item(e) for e in items],
        "total": total,
        "offset": offset,
        "limit": limit,
    }
