"""The dispatch log: append-only, batched, idempotent by dedup_key."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.store.models import DISPATCH_LOG
from dispatcher.store.records import LogRecord, NewLogEvent
from dispatcher.store.repo._common import as_dict, db_stamp, dialect_name, mapping, utcnow

# The outcome event services.fanout writes for a target reached.
DELIVERED_EVENT = "target.delivered"


def log_record(row: Row[Any]) -> LogRecord:
    m = mapping(row)
    return LogRecord(
        id=int(m["id"]),
        alert_id=m["alert_id"],
        task_id=m["task_id"],
        target=m["target"],
        event=m["event"],
        detail=as_dict(m["detail"]),
        at=m["at"],
        dedup_key=m["dedup_key"],
    )


_COLUMNS = "alert_id, task_id, target, event, detail, at, dedup_key"
# Rows: [alert_id, task_id, target, event, detail, at, dedup_key], one JSON parameter per
# batch (see repo.acks): a county fan-out logs one row per terminal reached.
_APPEND = {
    "sqlite": f"""
        INSERT INTO dispatch_log ({_COLUMNS})
        SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
               json_extract(value, '$[2]'), json_extract(value, '$[3]'),
               json_extract(value, '$[4]'), json_extract(value, '$[5]'),
               json_extract(value, '$[6]')
        FROM json_each(:rows) WHERE true ORDER BY key
        ON CONFLICT (dedup_key) DO NOTHING""",
    "postgresql": f"""
        INSERT INTO dispatch_log ({_COLUMNS})
        SELECT e->>0, e->>1, e->>2, e->>3, e->4, (e->>5)::timestamptz, e->>6
        FROM json_array_elements(CAST(:rows AS json)) WITH ORDINALITY AS x(e, n) ORDER BY n
        ON CONFLICT (dedup_key) DO NOTHING""",
}


_DELIVERED = {
    "sqlite": f"""
        INSERT INTO dispatch_log ({_COLUMNS})
        SELECT :alert_id, :task_id, value, :event, json_object('attempt', :attempt), :at,
               :task_id || ':' || value || '\\:outcome'
        FROM json_each(:targets) WHERE true ORDER BY key
        ON CONFLICT (dedup_key) DO NOTHING""",
    "postgresql": f"""
        INSERT INTO dispatch_log ({_COLUMNS})
        SELECT CAST(:alert_id AS text), CAST(:task_id AS text), t, CAST(:event AS text),
               json_build_object('attempt', CAST(:attempt AS integer)),
               CAST(:at AS timestamptz), CAST(:task_id AS text) || ':' || t || '\\:outcome'
        FROM json_array_elements_text(CAST(:targets AS json)) WITH ORDINALITY AS x(t, n)
        ORDER BY n
        ON CONFLICT (dedup_key) DO NOTHING""",
}


async def log_delivered(
    session: AsyncSession,
    *,
    alert_id: str,
    task_id: str,
    targets: Sequence[str],
    attempt: int,
    at: datetime,
) -> int:
    """One `target.delivered` row per target, keyed "{task_id}:{target}:outcome" like any
    outcome row, built by the database from the list: a broadcast reaches a county's 10,000
    terminals at once, and building that many rows in Python held the event loop for a
    tenth of a second. Returns how many were new."""
    if not targets:
        return 0
    sqlite = dialect_name(session) == "sqlite"
    params = {
        "alert_id": alert_id,
        "task_id": task_id,
        "event": DELIVERED_EVENT,
        "attempt": attempt,
        "at": db_stamp(at, sqlite=True) if sqlite else at.astimezone(UTC),
        "targets": json.dumps(list(targets), ensure_ascii=False),
    }
    result = await session.execute(text(_DELIVERED["sqlite" if sqlite else "postgresql"]), params)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def append_log(session: AsyncSession, *, events: Sequence[NewLogEvent]) -> int:
    """Insert `events` in the caller's transaction, in order; return how many were new.

    One statement per call: one commit per row caps at about 1k rows/s. A row whose
    dedup_key exists is skipped, so replaying an outcome or an ack is a no-op.
    """
    if not events:
        return 0
    sqlite = dialect_name(session) == "sqlite"
    now = utcnow()
    stamps: dict[datetime, str] = {}  # a batch's rows mostly share one time
    rows = []
    for e in events:
        at = e.at or now
        stamp = stamps.get(at)
        if stamp is None:
            stamp = stamps[at] = db_stamp(at, sqlite=sqlite)
        rows.append([e.alert_id, e.task_id, e.target, e.event, dict(e.detail), stamp, e.dedup_key])
    params = {"rows": json.dumps(rows, ensure_ascii=False, separators=(",", ":"))}
    result = await session.execute(text(_APPEND["sqlite" if sqlite else "postgresql"]), params)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def log_page(
    session: AsyncSession, *, alert_id: str, offset: int = 0, limit: int = 100
) -> tuple[list[LogRecord], int]:
    """Oldest first (insertion order), with the alert's total row count."""
    where = DISPATCH_LOG.c.alert_id == alert_id
    count = select(func.count()).select_from(DISPATCH_LOG).where(where)
    total = (await session.execute(count)).scalar_one()
    stmt = (
        select(DISPATCH_LOG)
        .where(where)
        .order_by(DISPATCH_LOG.c.id)
        .offset(max(offset, 0))
        .limit(max(limit, 0))
    )
    rows = (await session.execute(stmt)).all()
    return [log_record(r) for r in rows], int(total)


async def log_for_alert(session: AsyncSession, *, alert_id: str) -> list[LogRecord]:
    stmt = (
        select(DISPATCH_LOG).where(DISPATCH_LOG.c.alert_id == alert_id).order_by(DISPATCH_LOG.c.id)
    )
    return [log_record(r) for r in (await session.execute(stmt)).all()]


async def alert_timeline(
    session: AsyncSession, *, alert_id: str, limit: int = 1000
) -> list[LogRecord]:
    """The alert's and its tasks' own events, oldest first, without the per-target rows
    (which number one per terminal); `log_page` pages through everything."""
    stmt = (
        select(DISPATCH_LOG)
        .where(DISPATCH_LOG.c.alert_id == alert_id, DISPATCH_LOG.c.target.is_(None))
        .order_by(DISPATCH_LOG.c.id)
        .limit(max(limit, 0))
    )
    return [log_record(r) for r in (await session.execute(stmt)).all()]


async def delivered_targets(
    session: AsyncSession, *, task_id: str, event: str = DELIVERED_EVENT
) -> list[str]:
    """Targets a task already reached (its `event` rows): a retry sends to the rest only."""
    stmt = (
        select(DISPATCH_LOG.c.target)
        .where(
            DISPATCH_LOG.c.task_id == task_id,
            DISPATCH_LOG.c.event == event,
            DISPATCH_LOG.c.target.is_not(None),
        )
        .distinct()
        .order_by(DISPATCH_LOG.c.target)
    )
    return [str(t) for t in (await session.execute(stmt)).scalars()]
