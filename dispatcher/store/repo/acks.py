"""Terminal acknowledgements: idempotent on (alert, target, state), logged once each.

Acks arrive by the ten thousand within seconds of a county fan-out, so a batch goes to the
database as one JSON parameter that the server unpacks (`json_each` on SQLite,
`json_array_elements` on PostgreSQL): one set-based INSERT per batch instead of bound rows
per ack, which is where the time went (per-row bind processing, about 12k acks/s). The log
rows come from a trigger on the same INSERT, keyed by nothing: a unique key per log row,
hit at random places by acks that arrive in no order, made a 100k fan-out's commits rewrite
thousands of index pages each (revision 0007).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row, distinct, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.domain.coverage import POSITIVE_ACKS
from dispatcher.store.models import ACKS
from dispatcher.store.records import ACK_STATES, AckRecord
from dispatcher.store.repo._common import as_dict, db_stamp, dialect_name, mapping

ACK_EVENT = "ack"  # the log event is "ack.<state>"
# The stored states that show a terminal was reached.
REACHED_STATES = tuple(sorted(POSITIVE_ACKS & ACK_STATES))

# Rows: [alert_id, target, state, detail, at]. Each row the INSERT really adds gets its
# dispatch_log row from the database's trigger `acks_logged` (revision 0007), in the same
# statement; a repeat adds no ack and so no log row.
_INSERT = {
    "sqlite": """
        INSERT INTO acks (alert_id, target, state, detail, at)
        SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
               json_extract(value, '$[2]'), json_extract(value, '$[3]'),
               json_extract(value, '$[4]')
        FROM json_each(:rows) WHERE true
        ON CONFLICT (alert_id, target, state) DO NOTHING""",
    "postgresql": """
        INSERT INTO acks (alert_id, target, state, detail, at)
        SELECT e->>0, e->>1, e->>2, (e->3)::json, (e->>4)::timestamptz
        FROM json_array_elements(CAST(:rows AS json)) WITH ORDINALITY AS x(e, n)
        ORDER BY n
        ON CONFLICT (alert_id, target, state) DO NOTHING""",
}


class AckLike(Protocol):
    """A NewAck, or an adapter's AckReport (whose time may be missing: `record_acks` then
    stamps it with its `now`)."""

    @property
    def alert_id(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def detail(self) -> Mapping[str, Any]: ...
    @property
    def at(self) -> datetime | None: ...


def ack_record(row: Row[Any]) -> AckRecord:
    m = mapping(row)
    return AckRecord(
        alert_id=m["alert_id"],
        target=m["target"],
        state=m["state"],
        detail=as_dict(m["detail"]),
        at=m["at"],
    )


def _rows_json(acks: Sequence[AckLike], now: datetime | None, sqlite: bool) -> str:
    rows = []
    # one order for every batch: concurrent writers then take index locks in the same order
    for a in sorted(acks, key=lambda a: (a.alert_id, a.target, str(a.state))):
        state = str(getattr(a.state, "value", a.state))
        if state not in ACK_STATES:
            raise ValueError(f"unknown ack state {state!r}; expected one of {sorted(ACK_STATES)}")
        at = a.at or now
        if at is None or at.utcoffset() is None:
            raise ValueError(f"ack {a.alert_id}/{a.target}: time {at!r} is not an aware UTC time")
        rows.append([a.alert_id, a.target, state, dict(a.detail), db_stamp(at, sqlite=sqlite)])
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


async def record_acks(
    session: AsyncSession, *, acks: Sequence[AckLike], now: datetime | None = None
) -> int:
    """Store a batch of acks; each new one also gets a dispatch_log row (event "ack.<state>",
    the state also in detail["state"]), written by the database's trigger. Returns how many
    were new: QoS 1 redelivers, so many are not. A repeat inside the batch counts once. An
    ack without a time gets `now`.
    """
    if not acks:
        return 0
    dialect = dialect_name(session)
    rows = _rows_json(acks, now, dialect == "sqlite")
    result = await session.execute(text(_INSERT[dialect]), {"rows": rows})
    # the trigger's log rows are not in the count: both databases count the statement's own
    return int(result.rowcount)  # type: ignore[attr-defined]


async def acks_for_alert(session: AsyncSession, *, alert_id: str) -> list[AckRecord]:
    stmt = (
        select(ACKS)
        .where(ACKS.c.alert_id == alert_id)
        .order_by(ACKS.c.at, ACKS.c.target, ACKS.c.state)
    )
    return [ack_record(r) for r in (await session.execute(stmt)).all()]


def _reached(alert_id: str) -> Any:
    return (ACKS.c.alert_id == alert_id) & ACKS.c.state.in_(REACHED_STATES)


async def count_reached(session: AsyncSession, *, alert_id: str) -> int:
    """How many distinct targets acked the alert positively (one index-only aggregate)."""
    stmt = select(func.count(distinct(ACKS.c.target))).where(_reached(alert_id))
    return int((await session.execute(stmt)).scalar_one())


async def reached_targets_of(session: AsyncSession, *, alert_id: str) -> set[str]:
    """The targets that acked the alert positively; a refusal never removes one."""
    stmt = select(ACKS.c.target).where(_reached(alert_id)).distinct()
    return {str(t) for t in (await session.execute(stmt)).scalars()}
