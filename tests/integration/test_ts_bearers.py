"""A DTMB adapter on UDP, TS receivers reading it and acking through the system Mosquitto on
127.0.0.1:1883, and a subscriber in the platform's place.

Each run uses a random township of 舒城县 (codes 500-999 are not real ones) for its EBRIDs, so
runs do not see each other's acks; the receivers log in with clean sessions and leave nothing
retained. Waits are bounded polls: they stop a broken run from hanging, nothing asserts a time.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import gmqtt
import pytest
from gmqtt.mqtt.constants import MQTTv311

from adapters.base import AckReport, AdapterContext, Outcome, Transmission
from adapters.dtmb import DtmbAdapter
from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import terminal_topic
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from simulators.ts_receiver import TsReceiver
from terminals.mqtt_terminal import anchor_for_key
from tests.integration.mosquitto import system_broker

pytestmark = pytest.mark.mosquitto

HOST, PORT = "127.0.0.1", 1883
BROKER = f"mqtt://{HOST}:{PORT}"
KEY = SM2PrivateKey.generate()
SIGNER = SoftwareSigner(KEY, "340000000001")
ISSUER = "43415230000000103010101"
REPEAT = 0.2  # the carousel period under test
MARGIN = 5.0  # added to one period when waiting for the cancel to land; never a measurement
GUARD = 30.0


@pytest.fixture(scope="module")
def broker() -> str:
    return system_broker("the TS bearer path")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Acks:
    async def submit(self, acks: Sequence[AckReport]) -> None:
        return None


class Subscriber:
    """The platform's side: every ack published for the given terminals."""

    def __init__(self) -> None:
        self.acks: list[pb.Ack] = []
        self._changed = asyncio.Event()
        self._subscribed = asyncio.Event()
        self.client = gmqtt.Client(f"ebc-ts-test-{secrets.token_hex(6)}", clean_session=True)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()

    async def start(self, ebrids: Sequence[str]) -> None:
        await self.client.connect(HOST, PORT, version=MQTTv311)
        self.client.subscribe([gmqtt.Subscription(terminal_topic(e, "ack"), qos=1) for e in ebrids])
        await asyncio.wait_for(self._subscribed.wait(), GUARD)

    def _on_message(self, client: Any, topic: str, payload: bytes, qos: int, props: Any) -> int:
        self.acks.append(pb.Ack.FromString(payload))
        self._changed.set()
        return 0

    async def until(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(GUARD):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    def states(self, ebrid: str) -> list[str]:
        """Distinct states in arrival order (QoS 1 may deliver one twice)."""
        return list(
            dict.fromkeys(pb.AckState.Name(a.state) for a in self.acks if a.terminal_ebrid == ebrid)
        )


@pytest.fixture
async def subscriber(broker: str) -> AsyncIterator[Subscriber]:
    made = Subscriber()
    yield made
    await made.client.disconnect()


async def poll(condition: Callable[[], bool], seconds: float) -> bool:
    for _ in range(max(1, int(seconds / 0.02))):  # bounded
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


async def test_dtmb_broadcast_is_acked_and_cancel_stops_it(subscriber: Subscriber) -> None:
    township = f"341523{500 + secrets.randbelow(500):03d}"
    ebrid = f"6{township}0010303010401"  # a DTMB terminal in that township
    elsewhere = f"6341524{township[6:]}0010303010401"  # the same numbers in the next county
    ebmid = f"{ISSUER}20261127{secrets.randbelow(10_000):04d}"
    port, other_port = free_udp_port(), free_udp_port()
    await subscriber.start([ebrid, elsewhere])

    def anchors() -> Any:
        return anchor_for_key(KEY.public_key(), "340000000001")

    mine = TsReceiver(ebrid, anchors(), input=f"udp://{HOST}:{port}", broker_url=BROKER)
    other = TsReceiver(elsewhere, anchors(), input=f"udp://{HOST}:{other_port}", broker_url=BROKER)
    receivers = [mine, other]

    def dtmb(adapter_ebrid: str, udp_port: int) -> DtmbAdapter:
        config = {
            "site": "舒城 DTMB transmitter",
            "output": f"udp://{HOST}:{udp_port}",
            "regions": ["341523000000"],
            "frequency_hz": 474_000_000,
            "repeat_seconds": REPEAT,
        }
        context = AdapterContext(acks=Acks(), platform_ebrid=ISSUER, signer=SIGNER)
        return DtmbAdapter(adapter_ebrid, config, context)

    adapter = dtmb("43415230000000303010201", port)
    # The neighbouring county's receiver gets the same alert from a transmitter of its own.
    copy = dtmb("43415230000000303010202", other_port)
    for receiver in receivers:
        await receiver.start()
    try:
        alert = Transmission(
            alert_id=f"alert-{ebmid[-4:]}",
            task_id="task-1",
            ebmid=ebmid,
            msg_type=5,
            drill=True,
            event_type="11B03",
            severity=2,
            texts=(("zho", "暴雨预警", "请注意防范。"), ("uig", "ئاگاھلاندۇرۇش", "")),
            regions=(township + "000",),
            targets=(township + "000",),
            start=None,
            end=None,
        )
        report = await adapter.send(alert)
        await copy.send(alert)
        assert [o.outcome for o in report.outcomes] == [Outcome.DELIVERED]
        await subscriber.until(lambda: subscriber.states(ebrid) == ["ACK_VERIFIED", "ACK_PLAYING"])
        assert {a.alert_id for a in subscriber.acks} == {alert.alert_id}
        assert mine.state(ebmid) == "playing"

        cancel = Transmission(
            alert_id="cancel-1",
            task_id="task-2",
            ebmid=f"{ISSUER}202611279999",
            msg_type=2,
            drill=True,
            event_type="11B03",
            severity=2,
            texts=(),
            regions=alert.regions,
            targets=alert.targets,
            start=None,
            end=None,
            extra={"cancels": ebmid},
        )
        assert (await adapter.cancel(cancel)).delivered == alert.targets
        await copy.cancel(cancel)
        stopped = await poll(lambda: mine.state(ebmid) == "stopped", REPEAT + MARGIN)
        assert stopped, f"receiver state after one period: {mine.state(ebmid)}"
        await subscriber.until(lambda: "ACK_STOPPED" in subscriber.states(ebrid))
        stop_ack = next(a for a in subscriber.acks if a.state == pb.ACK_STOPPED)
        assert (stop_ack.alert_id, stop_ack.ebmid) == ("cancel-1", ebmid)

        # the neighbouring county heard it all and did nothing but count
        assert await poll(lambda: other.counters["other-region"] >= 2, GUARD)
        assert other.state(ebmid) is None and subscriber.states(elsewhere) == []
        assert not mine.counters, mine.counters
    finally:
        await adapter.stop()
        await copy.stop()
        for receiver in receivers:
            await receiver.stop()
