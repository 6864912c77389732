"""The FM bearer end to end: FmAdapter -> RDS group text over UDP on loopback -> FmReceiver ->
acks through the system Mosquitto on 127.0.0.1:1883 -> a gmqtt subscriber standing in for the
platform.

Each run uses its own random township of 舒城县 (codes 500-999 are not real ones) and removes
the session and retained status it made. Timeouts only stop a broken run from hanging; nothing
asserts a duration.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import gmqtt
import pytest
from gmqtt.mqtt.constants import MQTTv311

from adapters.base import AdapterContext, Outcome, Transmission
from adapters.fm import FmAdapter
from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import terminal_topic
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from simulators.fm_receiver import FmReceiver
from terminals.mqtt_terminal import anchor_for_key
from tests.integration.mosquitto import system_broker

pytestmark = pytest.mark.mosquitto

HOST, PORT = "127.0.0.1", 1883
BROKER = f"mqtt://{HOST}:{PORT}"
KEY = SM2PrivateKey.generate()
SN = "340000000001"
SIGNER = SoftwareSigner(KEY, SN)
PLATFORM = "43415230000000103010101"
EBMID = PLATFORM + "202506010001"
GUARD = 30.0  # seconds before a hung run fails; never a measurement


@pytest.fixture(scope="module")
def broker() -> str:
    return system_broker("the FM bearer's MQTT return path")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Platform:
    """The platform's side of the return path, as far as this test needs it: the acks."""

    def __init__(self) -> None:
        self.acks: list[pb.Ack] = []
        self._changed = asyncio.Event()
        self._subscribed = asyncio.Event()
        self.client = gmqtt.Client(f"ebc-fm-test-{secrets.token_hex(6)}", clean_session=True)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()

    async def start(self, ebrid: str) -> None:
        await self.client.connect(HOST, PORT, version=MQTTv311)
        self.client.subscribe(terminal_topic(ebrid, "ack"), qos=1)
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

    def states(self) -> list[tuple[str, str]]:
        return [(pb.AckState.Name(a.state), a.alert_id) for a in self.acks]


@pytest.fixture
async def platform(broker: str) -> AsyncIterator[Platform]:
    made = Platform()
    yield made
    await made.client.disconnect()


async def forget(ebrid: str) -> None:
    """End the receiver's persistent session and clear its retained status."""
    client = gmqtt.Client(ebrid, clean_session=True)
    await client.connect(HOST, PORT, version=MQTTv311)
    client.publish(terminal_topic(ebrid, "status"), b"", qos=1, retain=True)
    await client.disconnect()


def transmission(ebrid: str, township: str, **changes: Any) -> Transmission:
    now = dt.datetime.now(dt.UTC)
    fields: dict[str, Any] = dict(
        alert_id="fm-alert-1",
        task_id="t-fm",
        ebmid=EBMID,
        msg_type=1,
        drill=False,
        event_type="11B03",
        severity=2,
        texts=(("zho", "暴雨预警", "请注意防范。"),),
        regions=(township,),
        targets=(ebrid,),
        start=None,
        end=now + dt.timedelta(hours=1),
        extra={},
    )
    fields.update(changes)
    return Transmission(**fields)


class NoAcks:
    async def submit(self, acks: object) -> None:
        return None


async def test_fm_alert_is_acked_over_mqtt_and_cancel_stops_it(
    platform: Platform, tmp_path: Path
) -> None:
    township = f"341523{500 + secrets.randbelow(500):03d}000"
    ebrid = f"6{township[:9]}001" + "0301010401"
    port = free_udp_port()
    await platform.start(ebrid)
    receiver = FmReceiver(
        ebrid,
        anchor_for_key(KEY.public_key(), SN),
        input=f"udp://{HOST}:{port}",
        broker_url=BROKER,
        username=ebrid,
        password=None,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(receiver.run(stop))
    adapter = FmAdapter(
        "43415230000000301010201",
        {
            "site": "舒城县调频发射台 (test)",
            "frequency_khz": 97_500,
            "pi_code": "3456",
            "regions": ["341523000000"],
            "output": f"udp://{HOST}:{port}",
            "repeat_seconds": 0.2,
        },
        AdapterContext(acks=NoAcks(), platform_ebrid=PLATFORM, signer=SIGNER),
    )
    try:
        await asyncio.wait_for(receiver.ready.wait(), GUARD)
        report = await adapter.send(transmission(ebrid, township))
        assert [o.outcome for o in report.outcomes] == [Outcome.DELIVERED]
        await platform.until(lambda: len(platform.acks) >= 2)
        assert platform.states() == [("ACK_VERIFIED", "fm-alert-1"), ("ACK_PLAYING", "fm-alert-1")]
        assert {a.ebmid for a in platform.acks} == {EBMID}

        cancel = transmission(
            ebrid,
            township,
            alert_id="fm-cancel-1",
            msg_type=2,
            ebmid=PLATFORM + "202506010002",
            extra={"cancels": EBMID},
        )
        report = await adapter.cancel(cancel)
        assert [o.outcome for o in report.outcomes] == [Outcome.DELIVERED]
        # The start carousel ended before cancel() returned: no repetition after the stop.
        assert EBMID not in adapter.carousels
        repetitions = adapter.repetitions[EBMID]
        deadline = time.monotonic() + GUARD  # bounded polling on the receiver's state
        while receiver.state_of(EBMID) != "stopped" and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert receiver.state_of(EBMID) == "stopped" and receiver.playing is None
        await platform.until(lambda: len(platform.acks) >= 3)
        assert platform.states()[2] == ("ACK_STOPPED", "fm-cancel-1")
        assert adapter.repetitions[EBMID] == repetitions
        assert not receiver.counters, receiver.counters
    finally:
        await adapter.stop()
        stop.set()
        await asyncio.wait_for(running, GUARD)
        await forget(ebrid)
