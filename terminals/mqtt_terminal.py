"""One reference terminal on MQTT: a TerminalAgent, a Player and one gmqtt connection.

Connection conventions (docs/terminal-protocol.md): MQTT 3.1.1, QoS 1 everywhere, a persistent
session (clean_session=False) under client id = EBRID, so commands published while the terminal
was away are queued by the broker and arrive when it returns; last will = retained offline
Status. On every connect the terminal subscribes first and then publishes its retained online
Status: the broker handles one connection's packets in order, so "online" means reachable.

Reconnect follows terminals/link.py: the first connection is retried here with exponential
backoff and a timeout per attempt, for as long as the caller's stop event allows; after that
gmqtt reconnects by itself and the delay doubles on each loss up to ``max_backoff``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections import Counter
from pathlib import Path

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

from protocols.codes import CertSN
from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import region_topics_for, terminal_topic
from signing.errors import UnknownCertificate
from signing.sm2 import SM2PublicKey
from signing.trust import Rights, TrustEntry, TrustStore
from terminals.agent import Outbound, Play, Stop, TerminalAgent, Uplink
from terminals.link import BrokerAddress
from terminals.player import PlaybackFailed, Player

log = logging.getLogger("ebc.terminal")

CONNECT_TIMEOUT = 10.0
DISCONNECT_TIMEOUT = 5.0
KEEPALIVE = 30
# AckState number -> the name counted in ``TerminalConnection.acks`` ("verified", "played", ...)
ACK_STATES = {
    number: pb.AckState.Name(number).removeprefix("ACK_").lower() for number in pb.AckState.values()
}


class AnySerialTrust(TrustStore):
    """Trusts one public key under whatever certificate serial a command names.

    For a terminal given only its platform's public key: the signature must still verify under
    that key, so the serial is a label. A serial revoked by a certificate update stays revoked,
    and keys added by updates are looked up by their own serials first. Unknown serials get a
    transient entry, so unsigned junk naming random serials cannot grow the store.
    """

    def __init__(self, public_key: SM2PublicKey, name: str = "platform key") -> None:
        super().__init__()
        self._key = public_key
        self._name = name

    def get(self, cert_sn: CertSN | str) -> TrustEntry:
        try:
            return super().get(cert_sn)
        except UnknownCertificate:
            return TrustEntry(
                cert_sn=cert_sn if isinstance(cert_sn, CertSN) else CertSN(cert_sn),
                public_key=self._key,
                name=self._name,
                holder_ebrid=None,
                not_before=None,
                not_after=None,
                revoked=False,
                rights=Rights.unrestricted(),
            )

    def revoke(self, cert_sn: CertSN | str) -> None:
        entry = self.get(cert_sn)
        entry.revoked = True
        self.add(entry)


def anchor_for_key(public_key: SM2PublicKey, cert_sn: str | None = None) -> TrustStore:
    """The platform key as a terminal's trust anchor: under ``cert_sn`` only, or any serial."""
    if cert_sn is None:
        return AnySerialTrust(public_key)
    return TrustStore(
        [
            TrustEntry(
                cert_sn=CertSN(cert_sn),
                public_key=public_key,
                name="platform key",
                holder_ebrid=None,
                not_before=None,
                not_after=None,
                revoked=False,
                rights=Rights.unrestricted(),
            )
        ]
    )


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``; True when ``stop`` was set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(seconds, 0.0))
    return stop.is_set()


class TerminalConnection:
    """One terminal's MQTT session: commands in, the agent's uplinks out, playback driven."""

    def __init__(
        self,
        address: BrokerAddress,
        agent: TerminalAgent,
        player: Player,
        *,
        username: str | None,
        password: str | None,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        logger: logging.Logger = log,
    ) -> None:
        self.address = address
        self.agent = agent
        self.player = player
        self.received = 0
        self.acks: Counter[str] = Counter()
        self._username = username
        self._password = password
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._log = logger
        self._topics = [*region_topics_for(agent.region), terminal_topic(agent.ebrid, "cmd")]
        self._client: gmqtt.Client | None = None
        self._connected = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._closing = False
        self._playback: tuple[Play, asyncio.Task[None]] | None = None

    @property
    def ebrid(self) -> str:
        return self.agent.ebrid

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def connect(self, stop: asyncio.Event | None = None) -> bool:
        """Connected and subscribed: True; False when ``stop`` was set first."""
        self._closing = False
        delay = self._min_backoff
        while stop is None or not stop.is_set():
            client = self._client = self._new_client()
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    await client.connect(
                        self.address.host,
                        self.address.port,
                        version=MQTTv311,
                        ssl=ssl.create_default_context() if self.address.tls else False,
                        keepalive=KEEPALIVE,
                    )
                    await self._subscribed.wait()
                return True
            except (OSError, gmqtt.MQTTConnectError, TimeoutError) as exc:
                self._log.warning(
                    "%s: connect to %s:%s failed (%s); next try in %.1f s",
                    self.ebrid,
                    self.address.host,
                    self.address.port,
                    exc or type(exc).__name__,
                    delay,
                )
                await self._drop(client)
            if stop is None:
                await asyncio.sleep(delay)
            elif await wait_or_stop(stop, delay):
                break
            delay = min(self._max_backoff, delay * 2)
        return False

    async def disconnect(self) -> None:
        """Power off: stop playback, say offline (retained), end the connection. The broker
        keeps the session, so commands sent meanwhile wait for the next connect."""
        self._closing = True
        if self._playback is not None:
            self._playback[1].cancel()
            self._playback = None
        client = self._client
        if client is not None and self.connected:
            self.send(self.agent.status(False))
        await self._drop(client)

    def send(self, uplink: Uplink) -> None:
        """QoS 1; while the link is down gmqtt keeps it and re-sends it after reconnecting."""
        client = self._client
        if client is None:
            self._log.warning("%s: no connection, dropped %s", self.ebrid, uplink.topic)
            return
        client.publish(uplink.topic, uplink.payload, qos=1, retain=uplink.retain)
        ack = uplink.ack
        if ack is None:
            if not uplink.topic.endswith("/ack"):
                return
            ack = pb.Ack.FromString(uplink.payload)  # an ack built without its message
        state = ACK_STATES.get(ack.state) or str(ack.state)
        self.acks[state] += 1
        if self._log.isEnabledFor(logging.INFO):
            reason = ack.reason
            self._log.info(
                "%s: ack %s %s%s",
                self.ebrid,
                ack.command_id,
                state,
                f" ({reason})" if reason else "",
            )

    async def _drop(self, client: gmqtt.Client | None) -> None:
        if client is self._client:
            self._client = None
        self._connected.clear()
        self._subscribed.clear()
        if client is None:
            return
        with contextlib.suppress(Exception):
            # Whatever a dying connection raises, it is being discarded.
            await asyncio.wait_for(client.disconnect(), DISCONNECT_TIMEOUT)

    def _new_client(self) -> gmqtt.Client:
        offline = self.agent.status(False)
        will = gmqtt.Message(offline.topic, offline.payload, qos=1, retain=offline.retain)
        client = gmqtt.Client(self.ebrid, clean_session=False, will_message=will)
        if self._username:
            client.set_auth_credentials(self._username, self._password)
        client.set_config({"reconnect_retries": -1, "reconnect_delay": self._min_backoff})
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: gmqtt.Client, flags: int, rc: int, properties: object) -> None:
        self._connected.set()
        client.reconnect_delay = self._min_backoff
        # Again on every connect: a broker that lost its sessions must not leave us deaf.
        client.subscribe([gmqtt.Subscription(topic, qos=1) for topic in self._topics])
        online = self.agent.status(True)
        client.publish(online.topic, online.payload, qos=1, retain=online.retain)
        self._log.info("%s: connected to %s:%s", self.ebrid, self.address.host, self.address.port)

    def _on_subscribe(
        self, client: gmqtt.Client, mid: int, granted: object, properties: object
    ) -> None:
        codes = list(granted) if isinstance(granted, list | tuple) else [granted]
        if any(isinstance(code, int) and code >= 0x80 for code in codes):
            self._log.error("%s: the broker refused a subscription: %s", self.ebrid, codes)
        self._subscribed.set()

    def _on_disconnect(self, client: gmqtt.Client, packet: object, exc: object = None) -> None:
        self._connected.clear()
        self._subscribed.clear()
        if self._closing:
            return
        client.reconnect_delay = min(
            self._max_backoff, max(self._min_backoff, client.reconnect_delay * 2)
        )
        self._log.warning(
            "%s: connection lost; reconnecting in %.1f s", self.ebrid, client.reconnect_delay
        )

    def _on_message(
        self, client: gmqtt.Client, topic: str, payload: bytes, qos: int, properties: object
    ) -> int:
        self.received += 1
        self._apply(self.agent.handle(topic, payload))
        return 0  # PUBACK success: the command was taken in, whatever its verdict

    def _apply(self, outputs: list[Outbound]) -> None:
        for out in outputs:
            if isinstance(out, Uplink):
                self.send(out)
            elif isinstance(out, Play):
                if self._playback is not None:
                    self._playback[1].cancel()
                self._playback = (out, asyncio.create_task(self._perform(out)))
            elif isinstance(out, Stop) and self._playback and self._playback[0].ebmid == out.ebmid:
                self._playback[1].cancel()
                self._playback = None

    async def _perform(self, play: Play) -> None:
        if play.start_unix and play.start_unix > time.time():
            await asyncio.sleep(play.start_unix - time.time())
        self._apply(self.agent.playing(play))
        try:
            await self.player.play(play)
        except PlaybackFailed as exc:
            self._apply(self.agent.failed(play, str(exc)))
        else:
            self._apply(self.agent.played(play))


async def heartbeats(
    connection: TerminalConnection, stop: asyncio.Event, first_delay: float = 0.0
) -> None:
    """Until ``stop``: a heartbeat every ``agent.heartbeat_seconds`` (a Configure changes it)."""
    delay = first_delay
    while not await wait_or_stop(stop, delay):
        if connection.connected:
            connection.send(connection.agent.heartbeat())
        delay = connection.agent.heartbeat_seconds


async def run_terminal(
    broker_url: str,
    ebrid: str,
    anchors: TrustStore,
    *,
    username: str | None,
    password: str | None,
    tts_dir: Path | None = None,
    heartbeat_seconds: int = 30,
    stop: asyncio.Event,
) -> TerminalAgent:
    """Run one reference terminal until ``stop`` is set; the agent is returned for its counters."""
    agent = TerminalAgent(
        ebrid, anchors, clock=lambda: int(time.time()), heartbeat_seconds=heartbeat_seconds
    )
    connection = TerminalConnection(
        BrokerAddress.parse(broker_url),
        agent,
        Player(tts_dir=tts_dir),
        username=username,
        password=password,
    )
    if await connection.connect(stop):
        try:
            await heartbeats(connection, stop)
        finally:
            await connection.disconnect()
    return agent
