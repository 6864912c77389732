"""The platform's one connection to the terminal broker (one owner per connection).

It owns reconnect with exponential backoff and a persistent session (clean_session=False, a
stable client id), so QoS 1 uplinks queued while the platform was away arrive when it comes
back. Uplinks are read through a shared subscription when the broker supports it, so several
dispatcher processes can split the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl as ssl_module
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import gmqtt
from gmqtt.mqtt.constants import MQTTv50, MQTTv311

from protocols.terminal.topics import UPLINK_KINDS, parse_uplink, uplink_filter

log = logging.getLogger("ebc.link")

# Handles an uplink at once, or returns what is left to await (e.g. a database write): a
# task per message cost a sixth of the link's time in a fan-out's ack burst.
UplinkHandler = Callable[[str, str, bytes, bool], Awaitable[None] | None]


class LinkUnavailable(RuntimeError):
    """The broker cannot be reached now; the caller retries later."""


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"broker URL must be mqtt://HOST:PORT or mqtts://..., got {url!r}")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


def coalesce_replies(client: gmqtt.Client) -> None:
    """Write the replies to one socket read's packets (a PUBACK per QoS 1 uplink) at once.

    gmqtt parses every packet of a read in one synchronous pass and writes each PUBACK as it
    goes: one send() per ack, a third of the link's time in a 10k fan-out. Holding them until
    the pass ends keeps their order and sends them in one write. Applied per connection,
    since gmqtt makes a new protocol object on every reconnect.
    """
    connection = getattr(client, "_connection", None)
    protocol = getattr(connection, "_protocol", None)
    if protocol is None or getattr(protocol, "_ebc_coalesced", False):
        return
    read_packet = protocol._read_packet
    write_data = protocol.write_data

    def read_coalesced(data: bytes) -> int:
        held: list[bytes] = []
        protocol.write_data = held.append
        try:
            return int(read_packet(data))
        finally:
            del protocol.write_data
            if held:
                write_data(b"".join(held))

    protocol._read_packet = read_coalesced
    protocol._ebc_coalesced = True


class TerminalLink:
    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        on_uplink: UplinkHandler,
        shared: bool = False,
        mqtt5: bool = False,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.address = BrokerAddress.parse(url)
        self._client_id = client_id
        self._on_uplink = on_uplink
        self._shared = shared
        self._version = MQTTv50 if mqtt5 else MQTTv311
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._client: gmqtt.Client | None = None
        self._connected = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._pending: set[asyncio.Task[None]] = set()
        self._connector: asyncio.Task[None] | None = None
        self._stopping = False
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self, *, wait: float = 5.0) -> None:
        """Connect now if the broker answers within ``wait``; otherwise keep trying behind."""
        self._connector = asyncio.create_task(self._connect_loop(), name="ebc-link-connect")
        try:
            await asyncio.wait_for(self._subscribed.wait(), wait)
        except TimeoutError:
            log.warning(
                "broker %s:%s not reachable yet; retrying in the background",
                self.address.host,
                self.address.port,
            )

    async def wait_ready(self, timeout: float) -> None:
        await asyncio.wait_for(self._subscribed.wait(), timeout)

    async def _connect_loop(self) -> None:
        delay = self._min_backoff
        while not self._stopping:
            client = self._new_client()
            try:
                await client.connect(
                    self.address.host,
                    self.address.port,
                    ssl=ssl_module.create_default_context() if self.address.tls else False,
                    version=self._version,
                    keepalive=30,
                )
            except (TimeoutError, OSError, gmqtt.mqtt.handler.MQTTConnectError) as exc:
                log.warning("broker connect failed (%s); next try in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(self._max_backoff, delay * 2)
                continue
            self._client = client
            return

    def _new_client(self) -> gmqtt.Client:
        client = gmqtt.Client(self._client_id, clean_session=False)
        if self.address.username:
            client.set_auth_credentials(self.address.username, self.address.password)
        # gmqtt reconnects by itself after a lost connection; the delay grows in on_disconnect
        client.set_config({"reconnect_retries": -1, "reconnect_delay": self._min_backoff})
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_subscribe = self._handle_subscribe
        client.on_message = self._handle_message
        return client

    def _handle_connect(self, client: gmqtt.Client, flags: int, rc: int, properties: Any) -> None:
        if self._connected.is_set():
            return
        self._connected.set()
        coalesce_replies(client)
        client.reconnect_delay = self._min_backoff
        for kind in UPLINK_KINDS:
            client.subscribe(uplink_filter(kind, shared=self._shared), qos=1)
        log.info("broker link up (%s:%s)", self.address.host, self.address.port)

    def _handle_disconnect(self, client: gmqtt.Client, packet: Any, exc: Any = None) -> None:
        self._connected.clear()
        self._subscribed.clear()
        if self._stopping:
            return
        self.reconnects += 1
        client.reconnect_delay = min(
            self._max_backoff, max(self._min_backoff, client.reconnect_delay * 2)
        )
        log.warning("broker link lost; reconnecting in %.1fs", client.reconnect_delay)

    def _handle_subscribe(self, client: gmqtt.Client, mid: int, qos: Any, properties: Any) -> None:
        self._subscribed.set()

    def _handle_message(
        self, client: gmqtt.Client, topic: str, payload: bytes, qos: int, properties: Any
    ) -> int:
        try:
            ebrid, kind = parse_uplink(topic)
        except ValueError:
            log.warning("ignored a message on unexpected topic %s", topic)
            return 0
        retained = bool(properties.get("retain")) if isinstance(properties, dict) else False
        try:
            rest = self._on_uplink(kind, ebrid, payload, retained)
        except Exception:
            log.exception("uplink %s from %s could not be handled", kind, ebrid)
            return 0
        if rest is not None:
            task = asyncio.ensure_future(self._finish(kind, ebrid, rest))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return 0

    async def _finish(self, kind: str, ebrid: str, rest: Awaitable[None]) -> None:
        try:
            await rest
        except Exception:
            log.exception("uplink %s from %s could not be handled", kind, ebrid)

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Hand a QoS 1 message to the client; kept and re-sent by it across reconnects."""
        if self._client is None or not self._connected.is_set():
            raise LinkUnavailable("the terminal broker is not connected")
        self._client.publish(topic, payload, qos=1, retain=retain)

    async def stop(self) -> None:
        self._stopping = True
        if self._connector:
            self._connector.cancel()
            await asyncio.gather(self._connector, return_exceptions=True)
        if self._client is not None:
            with contextlib.suppress(TimeoutError, OSError):
                await asyncio.wait_for(self._client.disconnect(), 5)
        await asyncio.gather(*self._pending, return_exceptions=True)
