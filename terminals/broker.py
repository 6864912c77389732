"""The zero-setup embedded broker (amqtt) for demos and small counties.

Measured here at about 1k acks/s, so production uses Mosquitto or EMQX (deploy/). amqtt keeps
offline QoS 1 messages only for clients that log in with a username; every EBC terminal does.
"""

from __future__ import annotations

import logging
from typing import Any

from amqtt.broker import Broker

log = logging.getLogger("ebc.broker")


class _Broker(Broker):  # type: ignore[misc]
    """amqtt 0.12 with one fix: on connect it offers each client the retained messages of
    every filter ANY client subscribed to, so every terminal got every other terminal's
    retained status. Retained messages now go only to sessions subscribed to the filter."""

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Any
    ) -> None:
        subscribers = self._subscriptions.get(subscription[0], [])
        if all(s.client_id != session.client_id for s, _ in subscribers):
            return
        await super()._publish_retained_messages_for_subscription(subscription, session)


class EmbeddedBroker:
    def __init__(self, host: str = "127.0.0.1", port: int = 18830) -> None:
        self.host = host
        self.port = port
        self._broker: Broker | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> None:
        config: dict[str, Any] = {
            "listeners": {
                "default": {
                    "type": "tcp",
                    "bind": f"{self.host}:{self.port}",
                    "max_connections": 20000,
                }
            },
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        for noisy in ("amqtt", "transitions"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        self._broker = _Broker(config)
        await self._broker.start()
        log.info("embedded MQTT broker on %s", self.url)

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
