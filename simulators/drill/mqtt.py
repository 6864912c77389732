"""A plain gmqtt client that records what arrives on its topics and can publish: the drill's
eye on the region topic and its forger, and the benchmark's bare publisher and collector."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Sequence

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

from terminals.link import BrokerAddress

Handler = Callable[[str, bytes, float], None]


class Observer:
    def __init__(self, url: str, topics: Sequence[str], *, keep: bool = True,
                 on_message: Handler | None = None, name: str = "drill-observer") -> None:
        self.address = BrokerAddress.parse(url)
        self.topics = list(topics)
        self.keep = keep
        self.messages: list[tuple[float, str, bytes]] = []
        self.count = 0
        self._handler = on_message
        self._client = gmqtt.Client(f"{name}-{uuid.uuid4().hex[:8]}", clean_session=True)
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._subscribed = asyncio.Event()
        self._client.set_config({"reconnect_retries": -1, "reconnect_delay": 0.5})

    def _on_message(self, client: gmqtt.Client, topic: str, payload: bytes, qos: int,
                    properties: object) -> int:
        at = time.time()
        self.count += 1
        if self.keep:
            self.messages.append((at, topic, payload))
        if self._handler is not None:
            self._handler(topic, payload, at)
        return 0

    def _on_subscribe(self, client: gmqtt.Client, mid: int, qos: object,
                      properties: object) -> None:
        self._subscribed.set()

    async def start(self, timeout: float = 15.0) -> None:
        await asyncio.wait_for(
            self._client.connect(self.address.host, self.address.port, version=MQTTv311,
                                 keepalive=60), timeout)
        if self.topics:
            self._client.subscribe([gmqtt.Subscription(t, qos=1) for t in self.topics])
            await asyncio.wait_for(self._subscribed.wait(), timeout)

    def publish(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=1)

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError, OSError, RuntimeError):
            await asyncio.wait_for(self._client.disconnect(), 5)
