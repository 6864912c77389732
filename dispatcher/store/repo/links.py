"""Platform links (who we heard from, when) and lower platforms' state reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.store.models import ADAPTERS, ALERTS, PLATFORM_LINKS, PLATFORM_REPORTS
from dispatcher.store.records import AlertRecord
from dispatcher.store.repo._common import as_dict, insert_for, mapping, utcnow
from dispatcher.store.repo.alerts import alert_record


@dataclass(frozen=True)
class LinkRecord:
    ebrid: str
    role: str
    url: str
    last_heard: datetime | None
    last_sent: datetime | None
    last_error: str | None
    resources: Mapping[str, Any]


@dataclass(frozen=True)
class ReportRecord:
    alert_id: str
    platform_ebrid: str
    brd_state_code: int
    coverage_rate: float
    targeted: int
    acked: int
    final: bool
    detail: Mapping[str, Any]
    updated_at: datetime


async def ensure_link(session: AsyncSession, *, ebrid: str, role: str, url: str) -> None:
    """Create the link row, or update its role and URL, keeping what was heard."""
    stmt = insert_for(session, PLATFORM_LINKS).values(
        ebrid=ebrid, role=role, url=url, resources={}, updated_at=utcnow()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[PLATFORM_LINKS.c.ebrid],
        set_={"role": stmt.excluded.role, "url": stmt.excluded.url},
    )
    await session.execute(stmt)


async def note_link(
    session: AsyncSession,
    *,
    ebrid: str,
    heard: datetime | None = None,
    sent: datetime | None = None,
    error: str | None = None,
    resources: Mapping[str, Any] | None = None,
) -> bool:
    """Record a heartbeat heard or sent, an error, or resource reports; False if unknown."""
    values: dict[str, Any] = {"updated_at": utcnow()}
    if heard is not None:
        values["last_heard"] = heard
    if sent is not None:
        values["last_sent"] = sent
        values["last_error"] = error
    elif error is not None:
        values["last_error"] = error
    if resources is not None:
        values["resources"] = dict(resources)
    stmt = (
        update(PLATFORM_LINKS)
        .where(PLATFORM_LINKS.c.ebrid == ebrid)
        .values(**values)
        .returning(PLATFORM_LINKS.c.ebrid)
    )
    return (await session.execute(stmt)).first() is not None


async def list_links(session: AsyncSession) -> list[LinkRecord]:
    rows = (await session.execute(select(PLATFORM_LINKS).order_by(PLATFORM_LINKS.c.ebrid))).all()
    return [
        LinkRecord(
            ebrid=m["ebrid"],
            role=m["role"],
            url=m["url"],
            last_heard=m["last_heard"],
            last_sent=m["last_sent"],
            last_error=m["last_error"],
            resources=as_dict(m["resources"]),
        )
        for m in (mapping(r) for r in rows)
    ]


async def save_report(
    session: AsyncSession,
    *,
    alert_id: str,
    platform_ebrid: str,
    brd_state_code: int,
    coverage_rate: float,
    targeted: int,
    acked: int,
    final: bool,
    detail: Mapping[str, Any],
    now: datetime | None = None,
) -> None:
    row = {
        "alert_id": alert_id,
        "platform_ebrid": platform_ebrid,
        "brd_state_code": brd_state_code,
        "coverage_rate": coverage_rate,
        "targeted": targeted,
        "acked": acked,
        "final": final,
        "detail": dict(detail),
        "updated_at": now or utcnow(),
    }
    stmt = insert_for(session, PLATFORM_REPORTS).values(**row)
    stmt = stmt.on_conflict_do_update(
        index_elements=[PLATFORM_REPORTS.c.alert_id, PLATFORM_REPORTS.c.platform_ebrid],
        set_={k: stmt.excluded[k] for k in row if k not in ("alert_id", "platform_ebrid")},
    )
    await session.execute(stmt)


async def reports_for_alert(session: AsyncSession, *, alert_id: str) -> list[ReportRecord]:
    stmt = select(PLATFORM_REPORTS).where(PLATFORM_REPORTS.c.alert_id == alert_id)
    return [_report(dict(mapping(r))) for r in (await session.execute(stmt)).all()]


def _report(m: Mapping[str, Any]) -> ReportRecord:
    return ReportRecord(
        alert_id=m["alert_id"],
        platform_ebrid=m["platform_ebrid"],
        brd_state_code=int(m["brd_state_code"]),
        coverage_rate=float(m["coverage_rate"]),
        targeted=int(m["targeted"]),
        acked=int(m["acked"]),
        final=bool(m["final"]),
        detail=as_dict(m["detail"]),
        updated_at=m["updated_at"],
    )


async def set_adapter_health(session: AsyncSession, *, ebrids: Sequence[str], healthy: bool) -> int:

    if not ebrids:
        return 0
    stmt = (
        update(ADAPTERS)
        .where(ADAPTERS.c.ebrid.in_(list(ebrids)), ADAPTERS.c.healthy != healthy)
        .values(healthy=healthy, updated_at=utcnow())
        .returning(ADAPTERS.c.ebrid)
    )
    return len((await session.execute(stmt)).all())


async def find_alert_by_ebmid(session: AsyncSession, *, ebmid: str) -> AlertRecord | None:
    """Our own alert that carries ``ebmid`` (the id lower platforms report against)."""

    stmt = select(ALERTS).where(ALERTS.c.ebmid == ebmid).order_by(ALERTS.c.created_at).limit(1)
    row = (await session.execute(stmt)).first()
    return alert_record(row) if row is not None else None
