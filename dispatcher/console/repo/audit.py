"""The console's audit log: append-only, newest first when read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.console.models import AUDIT
from dispatcher.console.records import Actor, AuditRecord
from dispatcher.store.repo._common import as_dict, mapping


def audit_record(row: Row[Any]) -> AuditRecord:
    m = mapping(row)
    return AuditRecord(
        id=int(m["id"]), at=m["at"], username=m["username"], role=m["role"], region=m["region"],
        action=m["action"], target=m["target"], outcome=m["outcome"], client_ip=m["client_ip"],
        detail=as_dict(m["detail"]),
    )


async def append_audit(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    at: datetime,
    target: str | None = None,
    outcome: str = "ok",
    detail: Mapping[str, Any] | None = None,
) -> None:
    await session.execute(
        AUDIT.insert().values(
            at=at, username=actor.username[:64], role=actor.role, region=actor.region,
            action=action, target=(target or None) and target[:255], outcome=outcome,
            client_ip=actor.client_ip[:64], detail=dict(detail or {}),
        )
    )


async def audit_page(
    session: AsyncSession,
    *,
    region_prefix: str,
    username: str | None = None,
    action: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[AuditRecord], int]:
    """Entries of actors inside the region (by the actor's jurisdiction), newest first."""
    conditions = [AUDIT.c.region.startswith(region_prefix)] if region_prefix else []
    if username:
        conditions.append(AUDIT.c.username == username)
    if action:
        conditions.append(AUDIT.c.action.startswith(action))
    total = (
        await session.execute(select(func.count()).select_from(AUDIT).where(*conditions))
    ).scalar_one()
    stmt = (
        select(AUDIT)
        .where(*conditions)
        .order_by(AUDIT.c.id.desc())
        .offset(max(offset, 0))
        .limit(max(limit, 0))
    )
    return [audit_record(r) for r in (await session.execute(stmt)).all()], int(total)
