"""The terminals planning reads, kept in memory between alerts.

Reading and parsing every terminal on each accept took most of the accept-to-publish time
with a county's 10,000 loudspeakers. The store bumps an inventory version in the same
transaction as any write that moves a terminal, so one tiny read tells whether the copy
here is still right, whichever process registered the terminal.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dispatcher.domain.planning import Bearer, TerminalInfo
from dispatcher.store import repo
from protocols.codes import RegionCode


class Placements:
    def __init__(self) -> None:
        self._version = -1
        self._terminals: tuple[TerminalInfo, ...] = ()

    @property
    def loaded(self) -> bool:
        return self._version >= 0

    async def terminals(self, session: AsyncSession) -> tuple[TerminalInfo, ...]:
        version = await repo.inventory_version(session)
        if version != self._version:
            # version first: a write landing in between makes the next call read again
            rows = await repo.placements(session)
            self._terminals = tuple(
                TerminalInfo(ebrid, Bearer(bearer), RegionCode(region))
                for ebrid, bearer, region in rows
            )
            self._version = version
        return self._terminals
