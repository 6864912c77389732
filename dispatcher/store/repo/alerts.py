"""Alerts: intake writes the alert with its plan and first log events in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.store.errors import DuplicateAlert
from dispatcher.store.models import ALERTS, TASK_TARGETS, TASKS
from dispatcher.store.records import (
    ALERT_STATES,
    TASK_STATES,
    AlertRecord,
    NewAlert,
    NewLogEvent,
    NewTask,
)
from dispatcher.store.repo._common import as_tuple, checked, mapping, strings, text_value, utcnow
from dispatcher.store.repo.log import append_log

_UNIQUE_NAMES = ("uq_alerts_sender_identifier", "alerts.sender, alerts.identifier")


def alert_record(row: Row[Any]) -> AlertRecord:
    m = mapping(row)
    return AlertRecord(
        id=m["id"], sender=m["sender"], identifier=m["identifier"], cert_sn=m["cert_sn"],
        source_format=m["source_format"], content_type=m["content_type"], body=bytes(m["body"]),
        body_sha256=m["body_sha256"], signed_at=m["signed_at"], msg_type=m["msg_type"],
        drill=bool(m["drill"]), event_type=m["event_type"], severity=m["severity"],
        title=m["title"], start_at=m["start_at"], end_at=m["end_at"],
        area_codes=as_tuple(m["area_codes"]), targets=as_tuple(m["targets"]),
        dropped_targets=as_tuple(m["dropped_targets"]), references=as_tuple(m["references"]),
        texts=tuple((str(t[0]), str(t[1]), str(t[2])) for t in m["texts"] or ()),
        superseded_by=m["superseded_by"], state=m["state"], ebmid=m["ebmid"],
        created_at=m["created_at"], updated_at=m["updated_at"],
    )


async def find_alert(
    session: AsyncSession, *, sender: str, identifier: str
) -> AlertRecord | None:
    stmt = select(ALERTS).where(ALERTS.c.sender == sender, ALERTS.c.identifier == identifier)
    row = (await session.execute(stmt)).first()
    return alert_record(row) if row is not None else None


async def get_alert(session: AsyncSession, *, alert_id: str) -> AlertRecord | None:
    row = (await session.execute(select(ALERTS).where(ALERTS.c.id == alert_id))).first()
    return alert_record(row) if row is not None else None


async def list_alerts(
    session: AsyncSession,
    *,
    state: str | None = None,
    drill: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    event_type: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[AlertRecord], int]:
    """Newest first; `since` inclusive and `until` exclusive on created_at; with the total."""
    conditions = []
    if state is not None:
        conditions.append(ALERTS.c.state == checked(state, ALERT_STATES, "alert state"))
    if drill is not None:
        conditions.append(ALERTS.c.drill == drill)
    if since is not None:
        conditions.append(ALERTS.c.created_at >= since)
    if until is not None:
        conditions.append(ALERTS.c.created_at < until)
    if event_type is not None:
        conditions.append(ALERTS.c.event_type == event_type)
    total_stmt = select(func.count()).select_from(ALERTS).where(*conditions)
    total = (await session.execute(total_stmt)).scalar_one()
    page = (
        select(ALERTS)
        .where(*conditions)
        .order_by(ALERTS.c.created_at.desc(), ALERTS.c.id.desc())
        .offset(max(offset, 0))
        .limit(max(limit, 0))
    )
    rows = (await session.execute(page)).all()
    return [alert_record(r) for r in rows], int(total)


async def insert_alert(
    session: AsyncSession,
    *,
    alert: NewAlert,
    tasks: Sequence[NewTask],
    events: Sequence[NewLogEvent],
) -> str:
    """Add the alert, its tasks and log events to the caller's transaction; return the id.

    Raises `DuplicateAlert` when (sender, identifier) exists; the transaction is then spoilt
    (PostgreSQL) and the caller must roll back before reading the winner.
    """
    now = alert.created_at or utcnow()
    # Every row is built (and checked) before the first statement runs.
    task_rows = [_task_row(alert.id, t, now) for t in tasks]
    row = {
        "id": alert.id, "sender": alert.sender, "identifier": alert.identifier,
        "cert_sn": alert.cert_sn, "source_format": alert.source_format,
        "content_type": alert.content_type, "body": bytes(alert.body),
        "body_sha256": alert.body_sha256, "signed_at": int(alert.signed_at),
        "msg_type": int(alert.msg_type), "drill": bool(alert.drill),
        "event_type": alert.event_type, "severity": int(alert.severity), "title": alert.title,
        "start_at": alert.start_at, "end_at": alert.end_at,
        "area_codes": strings(alert.area_codes), "targets": strings(alert.targets),
        "dropped_targets": strings(alert.dropped_targets),
        "references": list(alert.references),
        "texts": [_text_triple(t) for t in alert.texts], "superseded_by": None,
        "state": checked(alert.state, ALERT_STATES, "alert state"), "ebmid": alert.ebmid,
        "created_at": now, "updated_at": now,
    }
    try:
        await session.execute(insert(ALERTS), [row])
    except sa_exc.IntegrityError as exc:
        if any(name in str(exc.orig) for name in _UNIQUE_NAMES):
            raise DuplicateAlert(alert.sender, alert.identifier) from exc
        raise
    if task_rows:
        await session.execute(insert(TASKS), task_rows)
        await session.execute(
            insert(TASK_TARGETS),
            [{"task_id": t.id, "targets": strings(t.targets)} for t in tasks],
        )
    await append_log(session, events=events)
    return alert.id


def _text_triple(text: Sequence[str]) -> list[str]:
    if len(text) != 3:
        raise ValueError(f"alert text must be (language, title, description), got {text!r}")
    return [str(part) for part in text]


def _task_row(alert_id: str, task: NewTask, now: datetime) -> dict[str, Any]:
    if task.alert_id is not None and task.alert_id != alert_id:
        raise ValueError(f"task {task.id} names alert {task.alert_id}, not {alert_id}")
    created = task.created_at or now
    return {
        "id": task.id, "alert_id": alert_id, "adapter_ebrid": task.adapter_ebrid,
        "bearer": text_value(task.bearer), "regions": strings(task.regions),
        "state": checked(task.state, TASK_STATES, "task state"),
        "priority": int(task.priority), "attempts": 0, "max_attempts": int(task.max_attempts),
        "not_before": task.not_before, "next_attempt_at": task.next_attempt_at or task.not_before,
        "deadline": task.deadline, "claimed_by": None, "lease_until": None, "last_error": None,
        "created_at": created, "updated_at": created,
    }


async def set_alert_state(
    session: AsyncSession,
    *,
    alert_id: str,
    state: str,
    superseded_by: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Set the state (and superseded_by when given); False when no such alert."""
    values: dict[str, Any] = {
        "state": checked(state, ALERT_STATES, "alert state"),
        "updated_at": now or utcnow(),
    }
    if superseded_by is not None:
        values["superseded_by"] = superseded_by
    result = await session.execute(
        update(ALERTS).where(ALERTS.c.id == alert_id).values(**values).returning(ALERTS.c.id)
    )
    return result.first() is not None
