"""Read models for the status API: an alert's state, coverage and timeline, and its log."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from dispatcher.domain.coverage import (
    LowerReport,
    TaskView,
    brd_state_code,
    roll_up,
    summarise,
)
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


async def alert_status(
    db: Database,
    *,
    alert_id: str,
    silent_after: dt.timedelta | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any] | None:
    """State, targets and coverage; with lower platforms, their reports rolled up and the
    ones gone silent (no heartbeat for ``silent_after``) marked."""
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
        reports = {
            r.platform_ebrid: r for r in await repo.reports_for_alert(session, alert_id=alert_id)
        }
        heard = {link.ebrid: link.last_heard for link in await repo.list_links(session)}
    views = [TaskView(t.id, t.bearer, TaskState(t.state), tuple(t.targets)) for t in tasks]
    own = summarise(
        [v for v in views if v.bearer != "platform"],
        [(a.target, a.state) for a in acks],
        region_of=terminals,
    )
    moment = now or dt.datetime.now(dt.UTC)

    def silent(ebrid: str) -> bool:
        last = heard.get(ebrid)
        return silent_after is not None and (last is None or moment - last > silent_after)

    lower = []
    for t in (t for t in tasks if t.bearer == "platform"):
        report = reports.get(t.adapter_ebrid)
        lower.append(
            LowerReport(
                platform=t.adapter_ebrid,
                region=t.regions[0] if t.regions else "",
                brd_state_code=report.brd_state_code if report else None,
                targeted=report.targeted if report else 0,
                acked=report.acked if report else 0,
                silent=silent(t.adapter_ebrid),
            )
        )
    coverage = roll_up(own, lower)
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
        "lower_platforms": [
            {
                "ebrid": r.platform,
                "region": r.region,
                "brd_state_code": r.brd_state_code,
                "targeted": r.targeted,
                "acked": r.acked,
                "coverage": round(r.acked / r.targeted, 6) if r.targeted else 0.0,
                "reported": r.brd_state_code is not None,
                "silent": r.silent,
            }
            for r in lower
        ],
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
