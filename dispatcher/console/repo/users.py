"""Console accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.console.models import USERS
from dispatcher.console.records import UserRecord
from dispatcher.store.records import new_id
from dispatcher.store.repo._common import mapping


def user_record(row: Row[Any]) -> UserRecord:
    m = mapping(row)
    return UserRecord(
        id=m["id"], username=m["username"], password_hash=m["password_hash"], role=m["role"],
        region=m["region"], totp_secret=m["totp_secret"],
        failed_attempts=int(m["failed_attempts"]), locked_until=m["locked_until"],
        disabled=bool(m["disabled"]), created_at=m["created_at"],
    )


async def add_user(
    session: AsyncSession,
    *,
    username: str,
    password_hash: str,
    role: str,
    region: str,
    totp_secret: str | None,
    now: datetime,
) -> UserRecord:
    row = {
        "id": new_id(), "username": username, "password_hash": password_hash, "role": role,
        "region": region, "totp_secret": totp_secret, "failed_attempts": 0,
        "locked_until": None, "disabled": False, "created_at": now,
    }
    await session.execute(USERS.insert().values(**row))
    found = await get_user(session, username=username)
    assert found is not None
    return found


async def get_user(session: AsyncSession, *, username: str) -> UserRecord | None:
    row = (await session.execute(select(USERS).where(USERS.c.username == username))).first()
    return user_record(row) if row is not None else None


async def get_user_by_id(session: AsyncSession, *, user_id: str) -> UserRecord | None:
    row = (await session.execute(select(USERS).where(USERS.c.id == user_id))).first()
    return user_record(row) if row is not None else None


async def list_users(session: AsyncSession) -> list[UserRecord]:
    rows = (await session.execute(select(USERS).order_by(USERS.c.username))).all()
    return [user_record(r) for r in rows]


async def record_failure(
    session: AsyncSession, *, user_id: str, attempts: int, locked_until: datetime | None
) -> None:
    await session.execute(
        update(USERS)
        .where(USERS.c.id == user_id)
        .values(failed_attempts=attempts, locked_until=locked_until)
    )


async def clear_failures(session: AsyncSession, *, user_id: str) -> None:
    await session.execute(
        update(USERS).where(USERS.c.id == user_id).values(failed_attempts=0, locked_until=None)
    )


async def set_password(session: AsyncSession, *, user_id: str, password_hash: str) -> None:
    await session.execute(
        update(USERS).where(USERS.c.id == user_id).values(password_hash=password_hash)
    )
