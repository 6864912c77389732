"""Simulated receivers for the broadcast bearers beside an IP fleet (`ebc fleet run --bearers`).

Each receiver listens to an adapter's output as configured on the platform: any number can
follow a ``file:`` output; a ``udp://`` output on loopback feeds one receiver (one socket owns
a unicast port), so more receivers than UDP outputs is refused with the reason. Legacy
loudspeakers connect to the gateway's listen address. Receivers are put in the inventory under
their bearer, so planning targets them and coverage counts them per bearer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dispatcher.config import AdapterConfig, Settings
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewTerminal
from signing.trust import TrustStore
from simulators.fleet import townships
from simulators.fm_receiver import FmReceiver
from simulators.legacy_terminal import LegacyTerminal
from simulators.ts_receiver import TsReceiver

RESOURCE_TYPE = {"dtmb": "0303", "cable": "0302", "dth": "0308", "fm": "0301", "legacy-ip": "0314"}
BROADCAST = ("dtmb", "cable", "dth", "fm")


def parse_mix(text: str) -> dict[str, int]:
    """``ip=300,dtmb=2,fm=1,legacy-ip=5`` -> counts; ValueError naming the bad part."""
    mix: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        bearer, sep, count = part.partition("=")
        if not sep or bearer not in ("ip", *RESOURCE_TYPE) or not count.isdigit():
            raise ValueError(
                f"--bearers takes BEARER=COUNT pairs (ip, dtmb, cable, dth, fm, "
                f"legacy-ip), got {part!r}"
            )
        mix[bearer] = int(count)
    return mix


def receiver_ebrids(region: str, bearer: str, count: int) -> list[tuple[str, str]]:
    """(EBRID, village region) for ``count`` receivers spread over the townships."""
    towns = townships(region)
    kind = RESOURCE_TYPE[bearer]
    subtype_seq = "02" if bearer == "legacy-ip" else "01"  # apart from the IP fleet's codes
    return [
        (
            f"6{towns[n % len(towns)].value[:9]}{n // len(towns) + 1:03d}{kind}0104{subtype_seq}",
            f"{towns[n % len(towns)].value[:9]}{n // len(towns) + 1:03d}",
        )
        for n in range(count)
    ]


@dataclass
class MixedFleet:
    settings: Settings
    broker_url: str
    anchors: TrustStore
    mix: dict[str, int]
    members: list[Any] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def _inputs(self, bearer: str) -> list[AdapterConfig]:
        return [a for a in self.settings.adapters if a.bearer == bearer and a.enabled]

    def plan(self) -> list[tuple[str, str, str, AdapterConfig]]:
        """(bearer, EBRID, region, adapter) per receiver; ValueError when it cannot be run."""
        placed = []
        for bearer, count in self.mix.items():
            if bearer == "ip" or not count:
                continue
            adapters = self._inputs(bearer)
            if not adapters:
                raise ValueError(f"no enabled {bearer} adapter on this platform to listen to")
            udp = [a for a in adapters if str(a.config.get("output", "")).startswith("udp://")]
            if len(udp) == len(adapters) and bearer in BROADCAST and count > len(udp):
                raise ValueError(
                    f"{count} {bearer} receivers but only {len(udp)} UDP output(s): a loopback "
                    "UDP port feeds one receiver; use a file: output for more"
                )
            for n, (ebrid, region) in enumerate(
                receiver_ebrids(self.settings.region, bearer, count)
            ):
                placed.append((bearer, ebrid, region, adapters[n % len(adapters)]))
        return placed

    async def provision(self, placed: Sequence[tuple[str, str, str, AdapterConfig]]) -> None:
        db = Database(self.settings.database_url)
        await db.start()
        try:
            async with db.session() as session:
                await repo.upsert_terminals(
                    session,
                    terminals=[
                        NewTerminal(
                            ebrid=ebrid,
                            bearer=bearer,
                            region=region,
                            name=f"simulated {bearer} receiver",
                        )
                        for bearer, ebrid, region, _ in placed
                    ],
                )
                await session.commit()
        finally:
            await db.stop()

    async def start(self) -> None:
        placed = self.plan()
        await self.provision(placed)
        for bearer, ebrid, _, adapter in placed:
            if bearer == "legacy-ip":
                host, _, port = str(adapter.config.get("listen", "127.0.0.1:0")).rpartition(":")
                member: Any = LegacyTerminal(
                    ebrid, self.anchors, host=host or "127.0.0.1", port=int(port)
                )
                await member.start()
            elif bearer == "fm":
                member = FmReceiver(
                    ebrid,
                    self.anchors,
                    input=str(adapter.config["output"]),
                    broker_url=self.broker_url,
                    username=ebrid,
                )
                await member.start(self._stop)
            else:
                member = TsReceiver(
                    ebrid,
                    self.anchors,
                    input=str(adapter.config["output"]),
                    broker_url=self.broker_url,
                    username=ebrid,
                    bearer=bearer,
                    pid=int(adapter.config.get("pid", 0x21)),
                )
                await member.start()
            self.members.append(member)

    async def stop(self) -> None:
        self._stop.set()
        for member in self.members:
            if isinstance(member, FmReceiver):
                await member.close()
            else:
                await member.stop()
