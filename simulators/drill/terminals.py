"""The drill's fleet: simulators.fleet.Fleet with per-terminal faults and a record of every
ack each terminal sends, timed where it leaves the terminal."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from protocols.terminal import terminal_pb2 as pb
from signing.trust import TrustStore
from simulators.drill.faults import TerminalFaults
from simulators.fleet import Credentials, Fleet
from terminals.agent import Opener, TerminalAgent, Uplink
from terminals.envelope import open_command
from terminals.link import BrokerAddress
from terminals.mqtt_terminal import ACK_STATES, TerminalConnection
from terminals.player import Player

# (alert id, command id, ack state, wall-clock seconds when sent, reason)
AckRecord = tuple[str, str, str, float, str]


class RecordingConnection(TerminalConnection):
    """Delays this terminal's acks by its fault profile and remembers when each one left."""

    def __init__(self, *args: Any, ack_delay: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ack_delay = ack_delay
        self.sent: list[AckRecord] = []

    def send(self, uplink: Uplink) -> None:
        if self.ack_delay > 0 and uplink.topic.endswith("/ack"):
            asyncio.get_running_loop().call_later(self.ack_delay, self._send_now, uplink)
        else:
            self._send_now(uplink)

    def _send_now(self, uplink: Uplink) -> None:
        if uplink.topic.endswith("/ack") and self._client is not None:
            ack = uplink.ack or pb.Ack.FromString(uplink.payload)
            state = ACK_STATES.get(ack.state) or str(ack.state)
            self.sent.append((ack.alert_id, ack.command_id, state, time.time(), ack.reason))
        super().send(uplink)


def _skewed_clock(skew: int) -> Any:
    return lambda: int(time.time()) + skew


class DrillFleet(Fleet):
    """A Fleet whose terminals are RecordingConnections with their own clock and delay."""

    def __init__(
        self,
        broker_url: str,
        terminals: Sequence[Credentials],
        anchors: TrustStore,
        plan: Mapping[str, TerminalFaults],
        *,
        heartbeat_seconds: int = 60,
        play_seconds: float = 5.0,
        concurrency: int = 200,
    ) -> None:
        offline = [e for e, _, _ in terminals if plan.get(e, TerminalFaults()).offline]
        super().__init__(broker_url, [], anchors, heartbeat_seconds=heartbeat_seconds,
                         offline=offline, concurrency=concurrency)
        address = BrokerAddress.parse(broker_url)
        opener: Opener = self.verification or open_command
        player = Player(simulated_seconds=play_seconds, logger=logging.getLogger("ebc.fleet.play"))
        quiet = logging.getLogger("ebc.fleet.agent")
        link_log = logging.getLogger("ebc.fleet.link")
        self.connections = {}
        for ebrid, username, password in terminals:
            faults = plan.get(ebrid, TerminalFaults())
            agent = TerminalAgent(ebrid, copy.deepcopy(anchors), clock=_skewed_clock(faults.skew),
                                  heartbeat_seconds=heartbeat_seconds, opener=opener, logger=quiet)
            self.connections[ebrid] = RecordingConnection(
                address, agent, player, username=username, password=password, logger=link_log,
                ack_delay=faults.ack_delay,
            )

    def records(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for ebrid, connection in self.connections.items():
            assert isinstance(connection, RecordingConnection)
            counters = connection.agent.counters
            out[ebrid] = {
                "connected": connection.connected,
                "received": connection.received,
                "acks": list(connection.sent),
                "rejected": dict(counters.rejected),
                "duplicates": counters.duplicates,
                "verified": counters.verified,
            }
        return out
