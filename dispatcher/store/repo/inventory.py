"""Adapters and terminals: the inventory the planner reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.store.models import ADAPTERS, PLATFORM_COUNTERS, TERMINALS
from dispatcher.store.records import AdapterRecord, NewAdapter, NewTerminal, TerminalRecord
from dispatcher.store.repo._common import (
    as_dict,
    as_tuple,
    insert_for,
    mapping,
    strings,
    text_value,
    utcnow,
)
from dispatcher.store.repo.counters import next_counter

_CHUNK = 5000
# Bumped in the transaction of every write that can change a terminal's EBRID, bearer or
# region, so a planner can keep the inventory in memory and re-read it only when it moved.
INVENTORY_COUNTER = "inventory:placements"


def adapter_record(row: Row[Any]) -> AdapterRecord:
    m = mapping(row)
    return AdapterRecord(
        ebrid=m["ebrid"],
        bearer=m["bearer"],
        regions=as_tuple(m["regions"]),
        enabled=bool(m["enabled"]),
        healthy=bool(m["healthy"]),
        config=as_dict(m["config"]),
        updated_at=m["updated_at"],
    )


def terminal_record(row: Row[Any]) -> TerminalRecord:
    m = mapping(row)
    return TerminalRecord(
        ebrid=m["ebrid"],
        bearer=m["bearer"],
        region=m["region"],
        name=m["name"],
        username=m["username"],
        password_hash=m["password_hash"],
        firmware=m["firmware"],
        state=m["state"],
        last_seen=m["last_seen"],
        created_at=m["created_at"],
    )


async def upsert_adapter(
    session: AsyncSession, *, adapter: NewAdapter, now: datetime | None = None
) -> AdapterRecord:
    row = {
        "ebrid": adapter.ebrid,
        "bearer": text_value(adapter.bearer),
        "regions": strings(adapter.regions),
        "enabled": adapter.enabled,
        "healthy": adapter.healthy,
        "config": dict(adapter.config),
        "updated_at": now or utcnow(),
    }
    insert = insert_for(session, ADAPTERS).values(**row)
    stmt = insert.on_conflict_do_update(
        index_elements=[ADAPTERS.c.ebrid],
        set_={k: insert.excluded[k] for k in row if k != "ebrid"},
    ).returning(*ADAPTERS.c)
    return adapter_record((await session.execute(stmt)).one())


async def list_adapters(session: AsyncSession) -> list[AdapterRecord]:
    stmt = select(ADAPTERS).order_by(ADAPTERS.c.ebrid)
    return [adapter_record(r) for r in (await session.execute(stmt)).all()]


async def get_adapter(session: AsyncSession, *, ebrid: str) -> AdapterRecord | None:
    row = (await session.execute(select(ADAPTERS).where(ADAPTERS.c.ebrid == ebrid))).first()
    return adapter_record(row) if row is not None else None


async def upsert_terminal(
    session: AsyncSession, *, terminal: NewTerminal, now: datetime | None = None
) -> None:
    await upsert_terminals(session, terminals=[terminal], now=now)


async def upsert_terminals(
    session: AsyncSession, *, terminals: Sequence[NewTerminal], now: datetime | None = None
) -> int:
    """Insert or update terminals by EBRID (a later duplicate in the batch wins).

    Keeps created_at and last_seen, and the stored password hash when the new one is None.
    Returns the number of distinct terminals written.
    """
    stamp = now or utcnow()
    by_ebrid = {t.ebrid: t for t in terminals}
    if not by_ebrid:
        return 0
    rows = [
        {
            "ebrid": t.ebrid,
            "bearer": text_value(t.bearer),
            "region": str(t.region),
            "name": t.name,
            "username": t.username,
            "password_hash": t.password_hash,
            "firmware": t.firmware,
            "state": t.state,
            "last_seen": None,
            "created_at": stamp,
        }
        for t in by_ebrid.values()
    ]
    stmt = insert_for(session, TERMINALS)
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[TERMINALS.c.ebrid],
        set_={
            "bearer": new.bearer,
            "region": new.region,
            "name": new.name,
            "username": new.username,
            "firmware": new.firmware,
            "state": new.state,
            "password_hash": func.coalesce(new.password_hash, TERMINALS.c.password_hash),
        },
    )
    await session.execute(stmt, rows)
    await next_counter(session, name=INVENTORY_COUNTER)
    return len(rows)


async def inventory_version(session: AsyncSession) -> int:
    """Changes whenever `placements` would (0 before any terminal was written)."""
    stmt = select(PLATFORM_COUNTERS.c.value).where(PLATFORM_COUNTERS.c.name == INVENTORY_COUNTER)
    return int((await session.execute(stmt)).scalar() or 0)


async def placements(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(ebrid, bearer, region) of every terminal, by EBRID: what planning needs, no more."""
    stmt = select(TERMINALS.c.ebrid, TERMINALS.c.bearer, TERMINALS.c.region).order_by(
        TERMINALS.c.ebrid
    )
    return [(str(e), str(b), str(r)) for e, b, r in (await session.execute(stmt)).all()]


async def list_terminals(
    session: AsyncSession, *, region_prefix: str | None = None, bearer: str | None = None
) -> list[TerminalRecord]:
    """Terminals ordered by EBRID; `region_prefix` selects a region's subtree by its leading
    digits (e.g. "3201" for a city)."""
    conditions = []
    if region_prefix:
        if not (region_prefix.isascii() and region_prefix.isdigit()):
            raise ValueError(f"region prefix must be digits, got {region_prefix!r}")
        conditions.append(TERMINALS.c.region.startswith(region_prefix))
    if bearer is not None:
        conditions.append(TERMINALS.c.bearer == text_value(bearer))
    stmt = select(TERMINALS).where(*conditions).order_by(TERMINALS.c.ebrid)
    return [terminal_record(r) for r in (await session.execute(stmt)).all()]


async def terminal_regions(session: AsyncSession, *, ebrids: Sequence[str]) -> dict[str, str]:
    """EBRID -> region code for the known ones among `ebrids` (unknown ones are left out)."""
    wanted = sorted(set(ebrids))
    found: dict[str, str] = {}
    # Chunks keep the IN list under SQLite's bound-parameter limit for any inventory size.
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        stmt = select(TERMINALS.c.ebrid, TERMINALS.c.region).where(TERMINALS.c.ebrid.in_(chunk))
        found.update((str(e), str(r)) for e, r in (await session.execute(stmt)).all())
    return found


async def get_terminal(session: AsyncSession, *, ebrid: str) -> TerminalRecord | None:
    row = (await session.execute(select(TERMINALS).where(TERMINALS.c.ebrid == ebrid))).first()
    return terminal_record(row) if row is not None else None


async def touch_terminal(
    session: AsyncSession,
    *,
    ebrid: str,
    state: str,
    last_seen: datetime,
    firmware: str | None = None,
) -> bool:
    """Record a heartbeat or status; False when the terminal is unknown."""
    values: dict[str, Any] = {"state": text_value(state), "last_seen": last_seen}
    if firmware is not None:
        values["firmware"] = firmware
    stmt = (
        update(TERMINALS)
        .where(TERMINALS.c.ebrid == ebrid)
        .values(**values)
        .returning(TERMINALS.c.ebrid)
    )
    return (await session.execute(stmt)).first() is not None


def _silent(cutoff: datetime, bearer: str) -> ColumnElement[bool]:
    return and_(
        TERMINALS.c.bearer == bearer,
        TERMINALS.c.last_seen < cutoff,
        TERMINALS.c.state.notin_(("offline", "unknown")),
    )


async def any_silent(session: AsyncSession, *, cutoff: datetime, bearer: str) -> bool:
    """Whether `mark_silent_offline` would change anything: a read, for a read session."""
    stmt = select(TERMINALS.c.ebrid).where(_silent(cutoff, bearer)).limit(1)
    return (await session.execute(stmt)).first() is not None


async def mark_silent_offline(session: AsyncSession, *, cutoff: datetime, bearer: str) -> int:
    """Terminals of ``bearer`` not heard since ``cutoff`` become offline; how many changed."""
    stmt = (
        update(TERMINALS)
        .where(_silent(cutoff, bearer))
        .values(state="offline")
        .returning(TERMINALS.c.ebrid)
    )
    return len((await session.execute(stmt)).all())
