"""The platform with the uplink-handling change proposed in bench/RESULTS.md, for measuring
it before it is made: `python -m bench.patched serve --dir DIR` is `ebc serve` with
UplinkService.flush and expire_silent replaced. Used only by `python -m bench --patched`;
the platform's own code is not changed here.

As shipped, flush() runs two statements per terminal seen (get_terminal, touch_terminal)
inside one write session, and expire_silent() loads every IP terminal, both every 0.5 s. In a
10k-terminal fan-out every ack marks its terminal seen, so one flush holds SQLite's single
write turn for seconds and the ack writer times out ("no write turn within 5000 ms").
The change: one SELECT ... IN and one executemany UPDATE per chunk of 1,000 terminals, each
chunk its own short transaction; expiry as one UPDATE ... WHERE last_seen < cutoff.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from sqlalchemy import bindparam, func, select, update

from dispatcher.services.uplinks import UplinkService
from dispatcher.store.errors import StoreUnavailable
from dispatcher.store.models import TERMINALS
from dispatcher.store.records import NewTerminal
from dispatcher.store.repo.inventory import upsert_terminals
from protocols.codes import ResourceCode

CHUNK = 1000


async def flush(self: UplinkService) -> None:
    if not self._seen:
        return
    seen, self._seen = self._seen, {}
    items = list(seen.items())
    returned: list[str] = []
    done = 0
    try:
        for start in range(0, len(items), CHUNK):
            chunk = items[start:start + CHUNK]
            async with self._db.session() as session:
                query = select(TERMINALS.c.ebrid, TERMINALS.c.state).where(
                    TERMINALS.c.ebrid.in_([e for e, _ in chunk]))
                before = {str(r[0]): str(r[1]) for r in (await session.execute(query)).all()}
                fresh = [e for e, _ in chunk if e not in before and self._register(e)]
                if fresh:
                    await upsert_terminals(session, terminals=[
                        NewTerminal(ebrid=e, bearer="ip", region=ResourceCode(e).region.value,
                                    username=e, state=seen[e].state) for e in fresh])
                rows: list[dict[str, Any]] = [
                    {"b_ebrid": e, "b_state": s.state, "b_seen": s.at, "b_fw": s.firmware}
                    for e, s in chunk if e in before or e in fresh
                ]
                if rows:
                    stmt = (update(TERMINALS)
                            .where(TERMINALS.c.ebrid == bindparam("b_ebrid"))
                            .values(state=bindparam("b_state"), last_seen=bindparam("b_seen"),
                                    firmware=func.coalesce(bindparam("b_fw"),
                                                           TERMINALS.c.firmware)))
                    await session.connection()  # executemany through Core, no ORM bulk path
                    await session.execute(stmt.execution_options(synchronize_session=False),
                                          rows)
                await session.commit()
            returned += [e for e, s in chunk
                         if before.get(e, "unknown") in ("offline", "unknown")
                         and s.state != "offline" and (e in before or e in fresh)]
            done = start + len(chunk)
    except StoreUnavailable:
        for ebrid, sighting in items[done:]:
            self._seen.setdefault(ebrid, sighting)
        raise
    if returned:
        await self.catch_up(returned)


async def expire_silent(self: UplinkService) -> None:
    cutoff = self._clock() - dt.timedelta(seconds=self._timeout)
    stmt = (update(TERMINALS)
            .where(TERMINALS.c.bearer == "ip", TERMINALS.c.state.not_in(("offline", "unknown")),
                   TERMINALS.c.last_seen < cutoff)
            .values(state="offline"))
    async with self._db.session() as session:
        await session.execute(stmt)
        await session.commit()


def apply() -> None:
    UplinkService.flush = flush  # type: ignore[method-assign]
    UplinkService.expire_silent = expire_silent  # type: ignore[method-assign]


if __name__ == "__main__":
    apply()
    from dispatcher.cli.main import app

    sys.argv[0] = "ebc"
    app()
