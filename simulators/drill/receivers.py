"""The drill's broadcast receivers (DTMB, cable, DTH, FM) and legacy IP loudspeakers.

They are simulators.mixed_fleet's receivers, placed, provisioned into the inventory under their
bearer and pointed at the drill's adapters the same way (so planning targets them and the
platform's coverage counts them per bearer), but run here, in the drill's own process, each
remembering when its acks leave it, as the IP fleet does: the report times reception the same
way for every bearer.

TS and FM receivers ack over MQTT on their own terminal topic, as IP terminals do; legacy
loudspeakers report to the gateway (0x17 accepted, 0x18 started, 0x19 ended), which turns the
reports into acks. Either way the platform writes them to its acks table, and the drill reads
coverage from there (the status API's ``by_bearer``) as it does for IP. A receiver dealt the
offline fault is in the inventory, so it is targeted, but is never started: it never hears.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from dispatcher.config import Settings
from protocols.legacy_ip import (
    Body,
    ReplyResult,
    StartStop,
    StartStopReply,
    TaskEnd,
    TaskEndResult,
    TaskStart,
)
from protocols.terminal import terminal_pb2 as pb
from signing.trust import TrustStore
from simulators.drill.faults import TerminalFaults
from simulators.drill.terminals import AckRecord
from simulators.fm_receiver import FmReceiver
from simulators.legacy_terminal import LegacyTerminal
from simulators.mixed_fleet import MixedFleet
from simulators.ts_receiver import TsReceiver

# Thousands of refusals of other regions' alerts (every receiver hears every region) would bury
# the drill's own output: the receivers' loggers say only errors while they run.
QUIET = ("ebc.ts_receiver", "ebc.fm_receiver", "ebc.simulators.legacy", "gmqtt")


def _state(ack: pb.Ack) -> str:
    return str(pb.AckState.Name(ack.state)).removeprefix("ACK_").lower()


class RecordingTs(TsReceiver):
    """A TS receiver remembering each ack as it is published."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[AckRecord] = []

    def _publish(self, acks: list[pb.Ack]) -> None:
        now = time.time()
        self.sent += [(a.alert_id, a.command_id, _state(a), now, a.reason) for a in acks]
        super()._publish(acks)

    def is_ready(self) -> bool:
        return self.link._connected.is_set()

    def record(self) -> dict[str, Any]:
        return {
            "connected": self.is_ready(),
            "received": len(self.core.broadcasts),
            "heard": self.core.accepted,
            "acks": list(self.sent),
            "rejected": dict(self.counters),
        }


class RecordingFm(FmReceiver):
    """An FM receiver remembering each ack as it is made (and sent, when its link is up)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[AckRecord] = []

    def _ack(
        self, command_id: str, ebmid: str, alert_id: str, state: pb.AckState, reason: str = ""
    ) -> None:
        name = str(pb.AckState.Name(state)).removeprefix("ACK_").lower()
        self.sent.append((alert_id, command_id, name, time.time(), reason))
        super()._ack(command_id, ebmid, alert_id, state, reason)

    def is_ready(self) -> bool:
        return self.ready.is_set()

    def record(self) -> dict[str, Any]:
        return {
            "connected": self.is_ready(),
            "received": len(self.broadcasts),
            "heard": self.stats.packets,
            "acks": list(self.sent),
            "rejected": dict(self.counters),
        }


class RecordingLegacy(LegacyTerminal):
    """A legacy loudspeaker remembering its reports to the gateway as acks: an accepted start
    is received, 0x18 playing, 0x19 played (or failed). The alert id is the gateway's business
    (it maps EBM ids to alerts), so it is filled in from the statuses when the drill ends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reports: list[tuple[str, str, float, str]] = []  # (EBM id, state, when, reason)

    async def _send(self, body: Body, *, sequence: int | None = None) -> None:
        now = time.time()
        if isinstance(body, StartStopReply) and body.on:
            state = "received" if body.result is ReplyResult.ACCEPTED else "rejected"
            self.reports.append((body.ebmid, state, now, ""))
        elif isinstance(body, TaskStart):
            self.reports.append((body.ebmid, "playing", now, ""))
        elif isinstance(body, TaskEnd):
            state = "failed" if body.result is TaskEndResult.FAILED else "played"
            self.reports.append((body.ebmid, state, now, ""))
        await super()._send(body, sequence=sequence)

    def is_ready(self) -> bool:
        return self.connected.is_set()

    def record(self, alerts: Mapping[str, str]) -> dict[str, Any]:
        acks = [
            (alerts.get(ebmid, ""), f"legacy-ip:{ebmid}", state, at, reason)
            for ebmid, state, at, reason in self.reports
        ]
        starts = sum(isinstance(b, StartStop) and b.on for b in self.received)
        return {
            "connected": self.connections > 0,
            "received": starts,
            "heard": len(self.received),
            "acks": acks,
            "rejected": dict(self.refused),
        }


class ReceiverFleet:
    """Receivers of ``mix`` (bearer -> count) listening to ``settings``' adapters."""

    def __init__(self, settings: Settings, mix: Mapping[str, int]) -> None:
        self.settings = settings
        self._mixed = MixedFleet(settings, "", TrustStore(), dict(mix))
        self.placed = self._mixed.plan()
        self.bearers = {ebrid: bearer for bearer, ebrid, _, _ in self.placed}
        self.members: dict[str, RecordingTs | RecordingFm | RecordingLegacy] = {}
        self._stop = asyncio.Event()
        self._runs: list[asyncio.Task[None]] = []
        self._levels: dict[str, int] = {}

    @property
    def ebrids(self) -> list[str]:
        return list(self.bearers)

    async def provision(self) -> None:
        await self._mixed.provision(self.placed)

    async def start(
        self,
        broker_url: str,
        anchors: TrustStore,
        plan: Mapping[str, TerminalFaults],
        *,
        play_seconds: float,
    ) -> None:
        """Every receiver not dealt the offline fault: inputs open, links connecting."""
        for name in QUIET:
            self._levels[name] = logging.getLogger(name).level
            logging.getLogger(name).setLevel(logging.ERROR)
        for bearer, ebrid, _, adapter in self.placed:
            if plan.get(ebrid, TerminalFaults()).offline:
                continue
            if bearer == "legacy-ip":
                host, _, port = str(adapter.config["listen"]).rpartition(":")
                legacy = RecordingLegacy(
                    ebrid, anchors, host=host, port=int(port), play_seconds=play_seconds
                )
                await legacy.start()
                self.members[ebrid] = legacy
            elif bearer == "fm":
                fm = RecordingFm(
                    ebrid,
                    anchors,
                    input=str(adapter.config["output"]),
                    broker_url=broker_url,
                    username=ebrid,
                )
                self._runs.append(asyncio.create_task(fm.run(self._stop)))
                self.members[ebrid] = fm
            else:
                self.members[ebrid] = RecordingTs(
                    ebrid,
                    anchors,
                    input=str(adapter.config["output"]),
                    broker_url=broker_url,
                    username=ebrid,
                    bearer=bearer,
                    pid=int(adapter.config.get("pid", 0x21)),
                )
        ts = [m for m in self.members.values() if isinstance(m, RecordingTs)]
        await asyncio.gather(*(m.start() for m in ts))

    def ready(self) -> int:
        return sum(m.is_ready() for m in self.members.values())

    async def wait_ready(self, seconds: float) -> int:
        """Until every started receiver can report (its MQTT link or gateway session is up)."""
        deadline = time.monotonic() + seconds
        while self.ready() < len(self.members) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return self.ready()

    async def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*self._runs, return_exceptions=True), 15)
        for member in self.members.values():
            if not isinstance(member, RecordingFm):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(member.stop(), 10)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)

    def records(self, alerts_by_ebmid: Mapping[str, str]) -> dict[str, dict[str, Any]]:
        """Per receiver, started or not, in the IP fleet's record shape plus its bearer."""
        out: dict[str, dict[str, Any]] = {}
        for ebrid, bearer in self.bearers.items():
            member = self.members.get(ebrid)
            if member is None:
                record: dict[str, Any] = {
                    "connected": False,
                    "received": 0,
                    "heard": 0,
                    "acks": [],
                    "rejected": {},
                }
            elif isinstance(member, RecordingLegacy):
                record = member.record(alerts_by_ebmid)
            else:
                record = member.record()
            out[ebrid] = {**record, "bearer": bearer, "duplicates": 0, "verified": 0}
        return out
