"""Platform counters (EBMID / EBDID daily sequences)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.store.models import PLATFORM_COUNTERS
from dispatcher.store.repo._common import insert_for


async def next_counter(session: AsyncSession, *, name: str) -> int:
    """Increment `name` and return the new value (1 the first time).

    One INSERT .. ON CONFLICT DO UPDATE .. RETURNING: atomic on both backends, so concurrent
    callers never see the same value once their transactions commit.
    """
    c = PLATFORM_COUNTERS.c
    stmt = (
        insert_for(session, PLATFORM_COUNTERS)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=[c.name], set_={"value": c.value + 1})
        .returning(c.value)
    )
    return int((await session.execute(stmt)).scalar_one())
