"""The legacy IP gateway with simulated loudspeakers over real loopback TCP sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from adapters.base import AckReport, AdapterContext, Outcome, Transmission
from adapters.legacy_ip import LegacyIpGateway
from protocols.codes import CertSN
from protocols.legacy_ip import BroadcastType, Command, StartStop, TaskEndResult, WorkState
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from signing.trust import Rights, TrustEntry, TrustStore
from simulators.legacy_terminal import LegacyTerminal
from tests.unit.legacy_ip.helpers import eventually

KEY = SM2PrivateKey.generate()
CERT_SN = CertSN("100000000001")
PLATFORM = "43415230000000103010101"
GATEWAY = "43415230000000314010201"
EBMID = PLATFORM + "20261127" + "0001"
TERMINALS = tuple(f"6341523100{i:03d}0314010401" for i in range(1, 6))
MISSING = "63415231000090314010401"
ELSEWHERE = "63401021000010314010401"


def anchors() -> TrustStore:
    rights = Rights(("341523000000",), ("*",), (1, 2, 3, 4, 5))
    entry = TrustEntry(
        CERT_SN, KEY.public_key(), "county platform", PLATFORM, None, None, False, rights
    )
    return TrustStore([entry])


@dataclass
class Acks:
    received: list[AckReport] = field(default_factory=list)

    async def submit(self, acks: Sequence[AckReport]) -> None:
        self.received.extend(acks)

    def states(self, alert_id: str, state: str) -> set[str]:
        return {a.target for a in self.received if a.alert_id == alert_id and a.state == state}


@dataclass
class Rig:
    gateway: LegacyIpGateway
    acks: Acks
    inventory: list[tuple[str, str]]
    context: AdapterContext
    terminals: list[LegacyTerminal] = field(default_factory=list)

    async def connect(self, ebrids: Sequence[str], **options: object) -> list[LegacyTerminal]:
        made = [
            LegacyTerminal(e, anchors(), host="127.0.0.1", port=self.gateway.port, **options)  # type: ignore[arg-type]
            for e in ebrids
        ]
        self.terminals += made
        for terminal in made:
            await terminal.start()
        return made

    def online(self, ebrids: Sequence[str]) -> bool:
        status = self.gateway.terminals
        return all(e in status and status[e].connected for e in ebrids)


def gateway_for(context: AdapterContext, port: int = 0, **config: object) -> LegacyIpGateway:
    settings = {
        "listen": f"127.0.0.1:{port}",
        "regions": ["341523000000"],
        "heartbeat_timeout": 30,
        **config,
    }
    return LegacyIpGateway(GATEWAY, settings, context)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    acks, seen = Acks(), []
    context = AdapterContext(
        acks=acks, platform_ebrid=PLATFORM, signer=SoftwareSigner(KEY, CERT_SN)
    )

    async def inventory(ebrid: str, state: str) -> None:
        seen.append((ebrid, state))

    context.inventory = inventory  # type: ignore[attr-defined]
    made = Rig(gateway_for(context), acks, seen, context)
    await made.gateway.start()
    yield made
    for terminal in made.terminals:
        await terminal.stop()
    await made.gateway.stop()


def transmission(alert_id: str = "a1", msg_type: int = 1, **extra: object) -> Transmission:
    return Transmission(
        alert_id=alert_id,
        task_id="t1",
        ebmid=EBMID if msg_type != 2 else PLATFORM + "20261127" + "0002",
        msg_type=msg_type,
        drill=msg_type >= 3,
        event_type="11B03",
        severity=2,
        texts=(("zho", "暴雨预警", "请注意"),),
        regions=("341523000000",),
        targets=(*TERMINALS, MISSING),
        start=None,
        end=None,
        extra=dict(extra),
    )


async def test_a_broadcast_reaches_every_connected_terminal_and_acks_come_back(rig: Rig) -> None:
    terminals = await rig.connect(TERMINALS, play_seconds=0.05)
    await eventually(lambda: rig.online(TERMINALS))

    report = await rig.gateway.send(transmission())

    outcomes = {o.target: o for o in report.outcomes}
    assert sorted(report.delivered) == sorted(TERMINALS)
    assert outcomes[MISSING].outcome is Outcome.UNREACHABLE
    assert outcomes[MISSING].detail == "not connected"
    await eventually(lambda: rig.acks.states("a1", "played") == set(TERMINALS))
    assert rig.acks.states("a1", "received") == set(TERMINALS)
    assert rig.acks.states("a1", "playing") == set(TERMINALS)
    played = [a for a in rig.acks.received if a.state == "played"]
    assert all(a.detail["ebmid"] == EBMID and a.detail["result"] == "completed" for a in played)
    for terminal in terminals:
        assert terminal.finished == [(EBMID, TaskEndResult.COMPLETED)]
        assert terminal.refused_total == 0


async def test_a_cancel_stops_every_terminal(rig: Rig) -> None:
    terminals = await rig.connect(TERMINALS, play_seconds=3600.0)
    await eventually(lambda: rig.online(TERMINALS))
    await rig.gateway.send(transmission())
    await eventually(lambda: rig.acks.states("a1", "playing") == set(TERMINALS))
    assert all(t.state is WorkState.WORKING for t in terminals)

    report = await rig.gateway.cancel(transmission("c1", msg_type=2, cancels=EBMID))

    assert sorted(report.delivered) == sorted(TERMINALS)
    assert {o.outcome for o in report.not_delivered} == {Outcome.UNREACHABLE}
    await eventually(lambda: all(t.state is WorkState.IDLE for t in terminals))
    assert all(t.finished == [(EBMID, TaskEndResult.STOPPED)] for t in terminals)
    await eventually(lambda: rig.acks.states("c1", "received") == set(TERMINALS))
    await eventually(lambda: rig.acks.states("a1", "played") == set(TERMINALS))
    assert {a.detail["result"] for a in rig.acks.received if a.state == "played"} == {"stopped"}


async def test_clock_on_connect_heartbeats_answered_and_inventory_told(rig: Rig) -> None:
    terminals = await rig.connect(TERMINALS[:2])
    await eventually(lambda: all(t.accepted[Command.GENERAL_REPLY] for t in terminals))
    assert all(t.clock_set is not None for t in terminals)
    assert set(rig.inventory) == {(e, "online") for e in TERMINALS[:2]}
    assert all(rig.gateway.terminals[e].state == "online" for e in TERMINALS[:2])


async def test_query_is_answered_with_the_terminal_state(rig: Rig) -> None:
    (terminal,) = await rig.connect(TERMINALS[:1])
    await eventually(lambda: rig.online(TERMINALS[:1]))
    assert await rig.gateway.query(TERMINALS[0])
    await eventually(lambda: terminal.accepted[Command.QUERY] == 1)
    assert not await rig.gateway.query(MISSING)


async def test_a_terminal_outside_the_covered_regions_is_refused(rig: Rig) -> None:
    (stranger,) = await rig.connect([ELSEWHERE])
    await eventually(lambda: rig.gateway.refused["not-covered"] >= 1)
    assert ELSEWHERE not in rig.gateway.terminals
    await stranger.stop()


async def test_terminals_come_back_after_the_gateway_restarts(rig: Rig) -> None:
    terminals = await rig.connect(TERMINALS[:3], backoff=(0.02, 0.2))
    await eventually(lambda: rig.online(TERMINALS[:3]))
    port = rig.gateway.port
    await rig.gateway.stop()
    await eventually(lambda: all(not t.connected.is_set() for t in terminals))
    assert {(e, "offline") for e in TERMINALS[:3]} <= set(rig.inventory)

    rig.gateway = gateway_for(rig.context, port)
    await rig.gateway.start()
    await eventually(lambda: rig.online(TERMINALS[:3]))
    assert all(t.connections >= 2 for t in terminals)
    report = await rig.gateway.send(transmission())
    assert sorted(report.delivered) == sorted(TERMINALS[:3])


async def test_a_silent_terminal_is_dropped_as_offline(rig: Rig) -> None:
    await rig.gateway.stop()
    rig.gateway = gateway_for(rig.context, heartbeat_timeout=0.2)
    await rig.gateway.start()
    (terminal,) = await rig.connect(TERMINALS[:1], heartbeat_interval=3600.0, backoff=(0.02, 0.2))
    await eventually(lambda: (TERMINALS[0], "offline") in rig.inventory)
    await eventually(lambda: terminal.connections >= 2)  # it dials again after being dropped


async def test_down_reports_every_target_failed(rig: Rig) -> None:
    await rig.connect(TERMINALS[:1])
    await eventually(lambda: rig.online(TERMINALS[:1]))
    rig.gateway.down = True
    report = await rig.gateway.send(transmission())
    assert report.delivered == ()
    assert {o.detail for o in report.outcomes} == {"transport down"}


def test_configuration_fails_fast_naming_the_setting() -> None:
    context = AdapterContext(acks=Acks(), signer=SoftwareSigner(KEY, CERT_SN))
    bad: list[tuple[dict[str, object], str]] = [
        ({"listen": "nowhere"}, "listen"),
        ({"regions": []}, "regions"),
        ({"regions": ["12345"]}, "regions"),
        ({"heartbeat_timeout": 0}, "heartbeat_timeout"),
        ({"listen": "gateway.example:0", "simulate_terminals": True}, "simulate_terminals"),
    ]
    for change, setting in bad:
        with pytest.raises(ValueError, match=setting):
            gateway_for(context, **change)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="signer"):
        gateway_for(AdapterContext(acks=Acks()))


@pytest.mark.parametrize(("msg_type", "drill"), [(1, False), (3, True), (5, True)])
async def test_drills_never_go_out_as_emergencies(rig: Rig, msg_type: int, drill: bool) -> None:
    (terminal,) = await rig.connect(TERMINALS[:1])
    await eventually(lambda: rig.online(TERMINALS[:1]))
    await rig.gateway.send(transmission(msg_type=msg_type))
    await eventually(lambda: terminal.received and terminal.sent)
    (command,) = [b for b in terminal.received if isinstance(b, StartStop)]
    assert command.broadcast_type is (BroadcastType.DAILY if drill else BroadcastType.EMERGENCY)
