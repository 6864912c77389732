"""Alerts and cancels composed in the console, from submission to decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.console.models import ORIGINATIONS
from dispatcher.console.records import OriginationRecord
from dispatcher.store.records import new_id
from dispatcher.store.repo._common import as_dict, as_tuple, mapping


def origination_record(row: Row[Any]) -> OriginationRecord:
    m = mapping(row)
    return OriginationRecord(
        id=m["id"], kind=m["kind"], state=m["state"], drill=bool(m["drill"]),
        region=m["region"], targets=as_tuple(m["targets"]), payload=as_dict(m["payload"]),
        submitted_by=m["submitted_by"], submitted_at=m["submitted_at"],
        approver=m["approver"], decided_at=m["decided_at"], reason=m["reason"],
        cancels=m["cancels"], alert_id=m["alert_id"],
    )


async def add_origination(
    session: AsyncSession,
    *,
    kind: str,
    drill: bool,
    region: str,
    targets: Sequence[str],
    payload: Mapping[str, Any],
    submitted_by: str,
    now: datetime,
    cancels: str | None = None,
) -> str:
    origination_id = new_id()
    await session.execute(
        ORIGINATIONS.insert().values(
            id=origination_id, kind=kind, state="pending", drill=drill, region=region,
            targets=list(targets), payload=dict(payload), submitted_by=submitted_by,
            submitted_at=now, approver=None, decided_at=None, reason=None, cancels=cancels,
            alert_id=None,
        )
    )
    return origination_id


async def get_origination(
    session: AsyncSession, *, origination_id: str
) -> OriginationRecord | None:
    stmt = select(ORIGINATIONS).where(ORIGINATIONS.c.id == origination_id)
    row = (await session.execute(stmt)).first()
    return origination_record(row) if row is not None else None


async def list_originations(
    session: AsyncSession, *, state: str | None = None, limit: int = 200
) -> list[OriginationRecord]:
    stmt = select(ORIGINATIONS).order_by(ORIGINATIONS.c.submitted_at.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(ORIGINATIONS.c.state == state)
    return [origination_record(r) for r in (await session.execute(stmt)).all()]


async def pending_cancel_for(session: AsyncSession, *, alert_id: str) -> OriginationRecord | None:
    stmt = select(ORIGINATIONS).where(
        ORIGINATIONS.c.cancels == alert_id, ORIGINATIONS.c.state == "pending"
    )
    row = (await session.execute(stmt)).first()
    return origination_record(row) if row is not None else None


async def decide(
    session: AsyncSession,
    *,
    origination_id: str,
    state: str,
    approver: str,
    now: datetime,
    reason: str | None = None,
    alert_id: str | None = None,
) -> bool:
    """Move a pending origination to its outcome; False when it was no longer pending (a
    second approver clicking at the same moment loses here, not at the platform)."""
    result = await session.execute(
        update(ORIGINATIONS)
        .where(ORIGINATIONS.c.id == origination_id, ORIGINATIONS.c.state == "pending")
        .values(state=state, approver=approver, decided_at=now, reason=reason, alert_id=alert_id)
        .returning(ORIGINATIONS.c.id)
    )
    return result.first() is not None


async def set_outcome(
    session: AsyncSession,
    *,
    origination_id: str,
    state: str,
    reason: str | None = None,
    alert_id: str | None = None,
) -> None:
    await session.execute(
        update(ORIGINATIONS)
        .where(ORIGINATIONS.c.id == origination_id)
        .values(state=state, reason=reason, alert_id=alert_id)
    )
