"""Server-side console sessions, keyed by the SHA-256 of the cookie value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.console.models import SESSIONS
from dispatcher.console.records import SessionRecord
from dispatcher.store.repo._common import mapping


def session_record(row: Row[Any]) -> SessionRecord:
    m = mapping(row)
    return SessionRecord(
        id=m["id"], user_id=m["user_id"], csrf_token=m["csrf_token"], client_ip=m["client_ip"],
        created_at=m["created_at"], last_seen=m["last_seen"],
    )


async def add_session(
    session: AsyncSession,
    *,
    session_id: str,
    user_id: str,
    csrf_token: str,
    client_ip: str,
    now: datetime,
) -> None:
    await session.execute(
        SESSIONS.insert().values(
            id=session_id, user_id=user_id, csrf_token=csrf_token, client_ip=client_ip,
            created_at=now, last_seen=now,
        )
    )


async def get_session(session: AsyncSession, *, session_id: str) -> SessionRecord | None:
    row = (await session.execute(select(SESSIONS).where(SESSIONS.c.id == session_id))).first()
    return session_record(row) if row is not None else None


async def touch_session(session: AsyncSession, *, session_id: str, now: datetime) -> None:
    await session.execute(update(SESSIONS).where(SESSIONS.c.id == session_id).values(last_seen=now))


async def end_session(session: AsyncSession, *, session_id: str) -> None:
    await session.execute(delete(SESSIONS).where(SESSIONS.c.id == session_id))


async def end_user_sessions(session: AsyncSession, *, user_id: str) -> None:
    await session.execute(delete(SESSIONS).where(SESSIONS.c.user_id == user_id))


async def end_stale_sessions(
    session: AsyncSession, *, idle_before: datetime, created_before: datetime
) -> int:
    result = await session.execute(
        delete(SESSIONS)
        .where((SESSIONS.c.last_seen < idle_before) | (SESSIONS.c.created_at < created_before))
        .returning(SESSIONS.c.id)
    )
    return len(result.all())
