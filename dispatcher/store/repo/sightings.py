"""What the broker link saw of terminals, written in batches: a county fan-out marks 10,000
terminals working and then online again within seconds, so a batch travels as one JSON
parameter that the database unpacks into one UPDATE (per-row binds cost more than the
writes), and the flush reads back only each terminal's state, not its whole record."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.store.repo._common import db_stamp, dialect_name, text_value

# Rows: [ebrid, state, last_seen, firmware or null]; a null firmware keeps the stored one.
_SQLITE = """
    UPDATE terminals SET state = json_extract(s.value, '$[1]'),
        last_seen = json_extract(s.value, '$[2]'),
        firmware = coalesce(json_extract(s.value, '$[3]'), terminals.firmware)
    FROM json_each(:rows) AS s
    WHERE terminals.ebrid = json_extract(s.value, '$[0]')"""
_POSTGRES = """
    UPDATE terminals AS t SET state = s.state, last_seen = s.seen,
        firmware = coalesce(s.firmware, t.firmware)
    FROM (SELECT e->>0 AS ebrid, e->>1 AS state, (e->>2)::timestamptz AS seen,
                 e->>3 AS firmware
          FROM json_array_elements(CAST(:rows AS json)) AS e) AS s
    WHERE t.ebrid = s.ebrid"""


async def touch_terminals(
    session: AsyncSession, *, sightings: Sequence[tuple[str, str, datetime, str | None]]
) -> None:
    """Many heartbeats, statuses or acks at once: (ebrid, state, last_seen, firmware or
    None). The last sighting of an EBRID in the batch wins; unknown EBRIDs change nothing."""
    if not sightings:
        return
    sqlite = dialect_name(session) == "sqlite"
    latest: dict[str, list[str | None]] = {}
    for ebrid, state, seen, firmware in sightings:
        if seen.utcoffset() is None:
            raise ValueError(f"sighting of {ebrid}: time {seen!r} is not an aware UTC time")
        latest[ebrid] = [ebrid, text_value(state), db_stamp(seen, sqlite=sqlite), firmware]
    # one order for every batch, so concurrent writers lock rows in the same order
    rows = [latest[e] for e in sorted(latest)]
    await session.execute(
        text(_SQLITE if sqlite else _POSTGRES),
        {"rows": json.dumps(rows, ensure_ascii=False, separators=(",", ":"))},
    )


_STATES = {
    "sqlite": "SELECT ebrid, state FROM terminals WHERE ebrid IN "
    "(SELECT value FROM json_each(:ebrids))",
    "postgresql": "SELECT ebrid, state FROM terminals WHERE ebrid IN "
    "(SELECT json_array_elements_text(CAST(:ebrids AS json)))",
}


async def terminal_states(session: AsyncSession, *, ebrids: Sequence[str]) -> dict[str, str]:
    """The stored state of each known terminal among ``ebrids``: one statement, the EBRIDs
    in one JSON parameter (an IN list of 10,000 binds took longer to compile than to run)."""
    if not ebrids:
        return {}
    stmt = text(_STATES["sqlite" if dialect_name(session) == "sqlite" else "postgresql"])
    listed = json.dumps(sorted(set(ebrids)), separators=(",", ":"))
    rows = (await session.execute(stmt, {"ebrids": listed})).all()
    return {str(ebrid): str(state) for ebrid, state in rows}
