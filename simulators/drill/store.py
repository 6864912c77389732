"""Drill results in the platform's database: one row per drill, the whole result as JSON.

The table lives on the store's own MetaData (dispatcher.store.models.Base), so the migration
check sees it; revision 0003 creates it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    desc,
    insert,
    select,
)

from dispatcher.store.coltypes import UTCDateTime
from dispatcher.store.db import Database
from dispatcher.store.models import Base

# Bulky per-terminal series stay in the report files; the row keeps what `drill show` needs.
HEAVY_KEYS = ("timeline",)

DRILLS = Table(
    "drills",
    Base.metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("passed", Boolean(), nullable=False),
    Column("terminals", Integer(), nullable=False),
    Column("coverage", Float(), nullable=False),
    Column("p99_seconds", Float(), nullable=True),
    Column("result", JSON(), nullable=False),
    Index(None, "started_at"),
)


def _stored(result: dict[str, Any]) -> dict[str, Any]:
    light = {k: v for k, v in result.items() if k not in HEAVY_KEYS}
    light["alerts"] = [{k: v for k, v in a.items() if k != "ack_times"}
                       for a in result.get("alerts", [])]
    return light


async def save_drill(db: Database, result: dict[str, Any]) -> None:
    finished = result.get("finished_at")
    row = {
        "id": result["id"],
        "name": result["name"][:255],
        "kind": result.get("kind", "manual"),
        "started_at": dt.datetime.fromisoformat(result["started_at"]),
        "finished_at": dt.datetime.fromisoformat(finished) if finished else None,
        "passed": bool(result["passed"]),
        "terminals": int(result.get("terminals", 0)),
        "coverage": float(result.get("coverage", 0.0)),
        "p99_seconds": (result.get("time_to_ack") or {}).get("p99"),
        "result": _stored(result),
    }
    async with db.session() as session:
        await session.execute(insert(DRILLS), [row])
        await session.commit()


async def list_drills(db: Database, *, limit: int = 50) -> list[dict[str, Any]]:
    columns = [c for c in DRILLS.c if c.name != "result"]
    stmt = select(*columns).order_by(desc(DRILLS.c.started_at)).limit(limit)
    async with db.session(readonly=True) as session:
        rows = (await session.execute(stmt)).mappings().all()
    return [
        {**dict(r), "started_at": r["started_at"].isoformat(),
         "finished_at": r["finished_at"].isoformat() if r["finished_at"] else None}
        for r in rows
    ]


async def get_drill(db: Database, drill_id: str) -> dict[str, Any] | None:
    """By id, or by a unique prefix of it (as listed)."""
    stmt = select(DRILLS.c.id, DRILLS.c.result).where(DRILLS.c.id.startswith(drill_id,
                                                                             autoescape=True))
    async with db.session(readonly=True) as session:
        rows = (await session.execute(stmt.limit(2))).all()
    if len(rows) != 1:
        return None
    result: dict[str, Any] = dict(rows[0][1])
    return result
