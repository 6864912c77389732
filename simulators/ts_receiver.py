"""A simulated cable / DTMB / DTH receiver: reads a TS, acts on EB signalling, acks over MQTT.

``ReceiverCore`` is the terminal logic without I/O (packets in, acks out, a clock); ``TsReceiver``
feeds it from ``udp://HOST:PORT`` or ``file:PATH`` and publishes its acks as the IP terminals
do (``Ack`` protobuf on ``ebc/v1/terminal/<ebrid>/ack``, QoS 1).

Every section goes through the same checks, in this order; a refusal is counted by reason
(``counters``) and never acted upon:

1. reassembly and CRC (``cc-gap``, ``bad-crc``, ``truncated``, ``bad-packet``), then decoding
   (``bad-bcd``, ``bad-mjd``, ``unknown-table``, ...);
2. the same bytes as the last accepted section of that table: a carousel repetition, dropped
   silently before any cryptography;
3. the signature against the trust anchors (``bad-signature``), then the signed time against
   the freshness window (``stale``);
4. replay (``replay``): a section signed earlier than the last one accepted for the same table
   (or the same second with other bytes), or an index entry for an EBM signed earlier than the
   last accepted entry for that EBM;
5. addressing (``other-region``): an index entry naming neither this receiver's EBRID nor a
   region containing it.

Acks: VERIFIED when an addressed EBM is accepted, PLAYING at its start, PLAYED at its end,
STOPPED when the index ends it early (a cancel) or a complete index no longer lists it; the
alert id comes from the content table (auxiliary 0xF0, or 0xF1 for the cancel's own id).
Refusals are not acked: on a broadcast bearer every receiver hears every region's alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import ssl
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

from protocols.codes import CertSN, ResourceCode
from protocols.errors import BinaryFormatError, CodeError, ProtocolError
from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import terminal_topic
from protocols.ts import (
    AUX_ALERT_ID,
    AUX_CANCELLED_BY,
    DEFAULT_PID,
    PACKET_BYTES,
    Certificates,
    Content,
    DefaultVolume,
    Depacketiser,
    Ebit,
    EbmClass,
    EbmEntry,
    Management,
    Section,
    TsError,
    decode_section,
    merge_content,
)
from protocols.ts.addressing import addresses
from signing.block import SignatureBlock, check_payload
from signing.errors import SignatureError
from signing.sm2 import SM2PublicKey
from signing.trust import Rights, TrustEntry, TrustStore
from terminals.link import BrokerAddress
from terminals.mqtt_terminal import wait_or_stop

log = logging.getLogger("ebc.ts_receiver")

DRILL_PREFIX = "【演练】"
ACTIVE = ("verified", "playing")
CONTENT_MEMORY = 256  # content tables kept for EBMs not (yet) in the index
TABLE_MEMORY = 4096  # last accepted section per table instance, for repetition and replay
FILE_POLL_SECONDS = 0.05
CONNECT_TIMEOUT = 10.0


@dataclass
class Broadcast:
    ebm_id: str
    alert_id: str
    state: str  # verified, playing, played, stopped
    start: dt.datetime | None
    end: dt.datetime | None
    drill: bool
    index_extension: int
    title: str = ""


@dataclass
class _Accepted:
    raw: bytes
    signed_at: int


@dataclass
class _Parts:
    """The sections of one table version seen so far."""

    version: int
    last: int
    parts: dict[int, Any] = field(default_factory=dict)

    def complete(self) -> bool:
        return len(self.parts) == self.last + 1


class ReceiverCore:
    def __init__(
        self,
        ebrid: str,
        anchors: TrustStore,
        *,
        clock: Callable[[], float] = time.time,
        pid: int = DEFAULT_PID,
        bearer: str = "dtmb",
        window: int | None = 300,
        future_skew: int = 60,
        logger: logging.Logger = log,
    ) -> None:
        self.code = ResourceCode(ebrid)
        self.ebrid = self.code.value
        self.anchors = anchors
        self.bearer = bearer
        self.volume = 60
        self.counters: Counter[str] = Counter()
        self.accepted = 0
        self.repetitions = 0
        self._clock = clock
        self._window = window
        self._skew = future_skew
        self._log = logger
        self._depacketiser = Depacketiser(pid)
        self._leftover = b""
        self._last: dict[tuple[int, object, int], _Accepted] = {}
        self._ebm_signed: dict[str, int] = {}
        self._index_parts: dict[int, _Parts] = {}
        self._content_parts: dict[str, _Parts] = {}
        self._content: OrderedDict[str, Content] = OrderedDict()
        self._waiting: dict[str, tuple[EbmEntry, int, int]] = {}
        self.broadcasts: dict[str, Broadcast] = {}

    def state(self, ebm_id: str) -> str | None:
        known = self.broadcasts.get(ebm_id)
        return known.state if known else None

    # -- input -------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[pb.Ack]:
        """Stream bytes (any split); whole packets are processed, a partial one waits."""
        buffer = self._leftover + bytes(data)
        whole = len(buffer) - len(buffer) % PACKET_BYTES
        self._leftover = buffer[whole:]
        acks: list[pb.Ack] = []
        for i in range(0, whole, PACKET_BYTES):
            acks += self.feed_packet(buffer[i : i + PACKET_BYTES])
        return acks

    def feed_datagram(self, data: bytes) -> list[pb.Ack]:
        """One UDP datagram: whole packets only, a ragged end is refused, not carried over."""
        whole = len(data) - len(data) % PACKET_BYTES
        if whole != len(data):
            self._refuse("truncated", f"datagram of {len(data)} bytes is not whole TS packets")
        acks: list[pb.Ack] = []
        for i in range(0, whole, PACKET_BYTES):
            acks += self.feed_packet(data[i : i + PACKET_BYTES])
        return acks

    def feed_packet(self, packet: bytes) -> list[pb.Ack]:
        acks: list[pb.Ack] = []
        for item in self._depacketiser.feed(packet):
            if isinstance(item, bytes):
                acks += self.feed_section(item)
            else:
                self._refuse(_reason(item), item.message)
        return acks

    def feed_section(self, raw: bytes) -> list[pb.Ack]:
        try:
            section, table = decode_section(raw)
        except ProtocolError as exc:
            self._refuse(_reason(exc), exc.message)
            return []
        key = _key(section, table)
        last = self._last.get(key)
        if last is not None and last.raw == raw:
            self.repetitions += 1
            return []
        now = self._clock()
        signed_at = section.signature.signed_at
        try:
            block = SignatureBlock.from_bytes(section.block)
            check_payload(
                section.payload, block, self.anchors, at=dt.datetime.fromtimestamp(now, dt.UTC)
            )
        except (SignatureError, BinaryFormatError, CodeError) as exc:
            self._refuse("bad-signature", str(exc))
            return []
        if self._window is not None and not (now - self._window <= signed_at <= now + self._skew):
            self._refuse("stale", f"signed at {signed_at}, now {now:.0f}")
            return []
        if last is not None and signed_at <= last.signed_at:
            self._refuse(
                "replay",
                f"table 0x{section.header.table_id:02X} signed at "
                f"{signed_at}, already accepted one signed at {last.signed_at}",
            )
            return []
        self._last.pop(key, None)
        self._last[key] = _Accepted(raw, signed_at)
        while len(self._last) > TABLE_MEMORY:  # oldest first: long-gone EBMs' content tables
            del self._last[next(iter(self._last))]
        self.accepted += 1
        if isinstance(table, Ebit):
            return self._index(section, table, signed_at)
        if isinstance(table, Content):
            return self._content_section(section, table)
        if isinstance(table, Certificates):
            self._certificates(table)
        elif isinstance(table, Management):
            self._management(table)
        return []

    def tick(self) -> list[pb.Ack]:
        """Start and end times reached since the last call."""
        now = self._clock()
        acks: list[pb.Ack] = []
        for b in list(self.broadcasts.values()):
            if b.state == "verified" and (b.start is None or b.start.timestamp() <= now):
                acks.append(self._set(b, "playing"))
            if b.state == "playing" and b.end is not None and b.end.timestamp() <= now:
                acks.append(self._set(b, "played"))
        return acks

    # -- tables ------------------------------------------------------------------------

    def _index(self, section: Section, table: Ebit, signed_at: int) -> list[pb.Ack]:
        acks: list[pb.Ack] = []
        head = section.header
        for entry in table.entries:
            if not any(addresses(code, self.code) for code in entry.resource_codes):
                self._refuse("other-region", f"EBM {entry.ebm_id} is not addressed to us")
                continue
            if signed_at < self._ebm_signed.get(entry.ebm_id, 0):
                self._refuse("replay", f"EBM {entry.ebm_id}: an older index entry")
                continue
            self._ebm_signed[entry.ebm_id] = signed_at
            acks += self._entry(entry, signed_at, head.table_id_extension)
        parts = self._index_parts.get(head.table_id_extension)
        if parts is None or parts.version != head.version:
            parts = _Parts(head.version, head.last_section_number)
            self._index_parts[head.table_id_extension] = parts
        parts.parts[head.section_number] = {e.ebm_id for e in table.entries}
        if parts.complete():
            listed: set[str] = set().union(*parts.parts.values())
            acks += self.tick()  # one that ended on time is played, not withdrawn
            for b in list(self.broadcasts.values()):
                if (
                    b.state in ACTIVE
                    and b.index_extension == head.table_id_extension
                    and b.ebm_id not in listed
                ):
                    acks.append(self._set(b, "stopped", "withdrawn"))
        return acks

    def _entry(self, entry: EbmEntry, signed_at: int, extension: int) -> list[pb.Ack]:
        known = self.broadcasts.get(entry.ebm_id)
        content = self._content.get(entry.ebm_id)
        if entry.end is not None and entry.end.timestamp() <= max(self._clock(), signed_at):
            cancel_id = content.aux_text(AUX_CANCELLED_BY) if content else None
            if known is not None and known.state in ACTIVE:
                if cancel_id:
                    known.alert_id = cancel_id
                return [self._set(known, "stopped")]
            if known is None and cancel_id:
                gone = Broadcast(
                    entry.ebm_id, cancel_id, "stopped", entry.start, entry.end, False, extension
                )
                self.broadcasts[entry.ebm_id] = gone
                return [self._ack(gone, pb.ACK_STOPPED, "not-playing")]
            return []
        if known is not None:
            if known.state in ACTIVE:  # an update: new times
                known.start, known.end = entry.start, entry.end
            return self.tick()
        if content is None:
            self._waiting[entry.ebm_id] = (entry, signed_at, extension)
            return []
        self._waiting.pop(entry.ebm_id, None)
        drill = entry.ebm_class != EbmClass.EMERGENCY
        title = content.texts[0].title if content.texts else ""
        fresh = Broadcast(
            entry.ebm_id,
            content.aux_text(AUX_ALERT_ID) or "",
            "verified",
            entry.start,
            entry.end,
            drill,
            extension,
            title,
        )
        self.broadcasts[entry.ebm_id] = fresh
        self._log.info("%s: EBM %s verified (%s)", self.ebrid, entry.ebm_id, title)
        return [self._ack(fresh, pb.ACK_VERIFIED), *self.tick()]

    def _content_section(self, section: Section, table: Content) -> list[pb.Ack]:
        head = section.header
        parts = self._content_parts.get(table.ebm_id)
        if parts is None or parts.version != head.version:
            parts = _Parts(head.version, head.last_section_number)
            self._content_parts[table.ebm_id] = parts
        parts.parts[head.section_number] = table
        if not parts.complete():
            return []
        self._content[table.ebm_id] = merge_content(list(parts.parts.values()))
        self._content.move_to_end(table.ebm_id)
        while len(self._content) > CONTENT_MEMORY:
            gone, _ = self._content.popitem(last=False)
            self._content_parts.pop(gone, None)
        waiting = self._waiting.pop(table.ebm_id, None)
        return self._entry(*waiting) if waiting else []

    def _certificates(self, table: Certificates) -> None:
        for item in table.items:
            try:
                if item.revoked:
                    if item.cert_sn in self.anchors:
                        self.anchors.revoke(item.cert_sn)
                    continue
                self.anchors.add(
                    TrustEntry(
                        cert_sn=CertSN(item.cert_sn),
                        public_key=SM2PublicKey(item.public_key),
                        name=f"certificate table ({self.bearer})",
                        holder_ebrid=None,
                        not_before=None,
                        not_after=item.not_after,
                        revoked=False,
                        rights=Rights.unrestricted(),
                    )
                )
            except (CodeError, SignatureError) as exc:
                self._log.warning("%s: certificate %s not taken: %s", self.ebrid, item.cert_sn, exc)

    def _management(self, table: Management) -> None:
        for item in table.commands:
            if item.targets and not any(addresses(c, self.code) for c in item.targets):
                continue
            if isinstance(item.command, DefaultVolume):
                self.volume = item.command.volume
            self._log.info("%s: management command %s", self.ebrid, item.command)

    # -- helpers -----------------------------------------------------------------------

    def _set(self, b: Broadcast, state: str, reason: str = "") -> pb.Ack:
        b.state = state
        prefix = DRILL_PREFIX if b.drill else ""
        self._log.info("%s: %s %s%s %s", self.ebrid, state, prefix, b.title, b.ebm_id)
        return self._ack(b, _ACK_STATES[state], reason)

    def _ack(self, b: Broadcast, state: pb.AckState, reason: str = "") -> pb.Ack:
        return pb.Ack(
            terminal_ebrid=self.ebrid,
            command_id=f"{self.bearer}:{b.ebm_id}",
            ebmid=b.ebm_id,
            alert_id=b.alert_id,
            state=state,
            reason=reason,
            at_unix=int(self._clock()),
        )

    def _refuse(self, reason: str, detail: str) -> None:
        self.counters[reason] += 1
        self._log.debug("%s: refused (%s): %s", self.ebrid, reason, detail)


_ACK_STATES = {
    "playing": pb.ACK_PLAYING,
    "played": pb.ACK_PLAYED,
    "stopped": pb.ACK_STOPPED,
    "verified": pb.ACK_VERIFIED,
}


def _reason(exc: ProtocolError) -> str:
    return exc.code if isinstance(exc, TsError) else "malformed"


def _key(section: Section, table: object) -> tuple[int, object, int]:
    """Replay and repetition are judged per table instance: content per EBM, others per
    table_id_extension; and per section number."""
    head = section.header
    scope: object = table.ebm_id if isinstance(table, Content) else head.table_id_extension
    return (head.table_id, scope, head.section_number)


# -- I/O --------------------------------------------------------------------------------


class AckLink:
    """One gmqtt connection that only publishes. Acks made while it is down wait (bounded)."""

    def __init__(
        self,
        broker_url: str,
        client_id: str,
        username: str | None,
        password: str | None,
        *,
        backlog: int = 1000,
    ) -> None:
        self.address = BrokerAddress.parse(broker_url)
        self._client_id = client_id
        self._username = username if username is not None else self.address.username
        self._password = password if password is not None else self.address.password
        self._client: gmqtt.Client | None = None
        self._connected = asyncio.Event()
        self._backlog: list[pb.Ack] = []
        self._limit = backlog
        self.published = 0

    async def connect(self, stop: asyncio.Event) -> bool:
        delay = 0.5
        while not stop.is_set():  # bounded by stop
            client = gmqtt.Client(self._client_id, clean_session=True)
            client.on_connect = self._on_connect
            client.on_disconnect = lambda *args: self._connected.clear()
            if self._username:
                client.set_auth_credentials(self._username, self._password)
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    await client.connect(
                        self.address.host,
                        self.address.port,
                        version=MQTTv311,
                        keepalive=30,
                        ssl=ssl.create_default_context() if self.address.tls else False,
                    )
                self._client = client
                self._flush()
                return True
            except (OSError, gmqtt.MQTTConnectError, TimeoutError) as exc:
                log.warning(
                    "%s: broker %s:%s not reachable (%s); retry in %.1f s",
                    self._client_id,
                    self.address.host,
                    self.address.port,
                    exc,
                    delay,
                )
            if await wait_or_stop(stop, delay):
                break
            delay = min(delay * 2, 30.0)
        return False

    def _on_connect(self, client: gmqtt.Client, flags: int, rc: int, properties: object) -> None:
        self._connected.set()

    def publish(self, ack: pb.Ack) -> None:
        if self._client is None:
            if len(self._backlog) < self._limit:
                self._backlog.append(ack)
            return
        payload = ack.SerializeToString(deterministic=True)
        self._client.publish(terminal_topic(ack.terminal_ebrid, "ack"), payload, qos=1)
        self.published += 1

    def _flush(self) -> None:
        waiting, self._backlog = self._backlog, []
        for ack in waiting:
            self.publish(ack)

    async def disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # a dying connection may raise anything
                await asyncio.wait_for(client.disconnect(), 5.0)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, handle: Callable[[bytes], None]) -> None:
        self._handle = handle

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._handle(data)


class TsReceiver:
    def __init__(
        self,
        ebrid: str,
        anchors: TrustStore,
        *,
        input: str,
        broker_url: str,
        username: str | None = None,
        password: str | None = None,
        clock: Callable[[], float] = time.time,
        pid: int = DEFAULT_PID,
        bearer: str = "dtmb",
        window: int | None = 300,
        tick_seconds: float = 0.1,
        logger: logging.Logger = log,
    ) -> None:
        self.core = ReceiverCore(
            ebrid, anchors, clock=clock, pid=pid, bearer=bearer, window=window, logger=logger
        )
        self.input = input
        self.link = AckLink(broker_url, self.core.ebrid, username, password)
        self._tick_seconds = tick_seconds
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._transport: asyncio.DatagramTransport | None = None

    @property
    def counters(self) -> Counter[str]:
        return self.core.counters

    def state(self, ebm_id: str) -> str | None:
        return self.core.state(ebm_id)

    async def start(self) -> None:
        """Input open and the broker connected (or retrying in the background)."""
        self._stop.clear()
        if self.input.startswith("file:"):
            path = Path(
                self.input.removeprefix("file://")
                if self.input.startswith("file://")
                else self.input[5:]
            )
            self._tasks.append(asyncio.create_task(self._read_file(path)))
        else:
            parts = urlsplit(self.input)
            if parts.scheme != "udp" or not parts.hostname or not parts.port:
                raise ValueError(f"input must be udp://HOST:PORT or file:PATH, got {self.input!r}")
            loop = asyncio.get_running_loop()
            self._transport, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(lambda data: self._publish(self.core.feed_datagram(data))),
                local_addr=(parts.hostname, parts.port),
            )
        self._tasks.append(asyncio.create_task(self._ticks()))
        connecting = asyncio.create_task(self.link.connect(self._stop))
        done, _ = await asyncio.wait({connecting}, timeout=CONNECT_TIMEOUT)
        if not done:
            self._tasks.append(connecting)

    async def stop(self) -> None:
        self._stop.set()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.link.disconnect()

    def _publish(self, acks: list[pb.Ack]) -> None:
        for ack in acks:
            self.link.publish(ack)

    async def _ticks(self) -> None:
        while not await wait_or_stop(self._stop, self._tick_seconds):  # bounded by stop
            self._publish(self.core.tick())

    async def _read_file(self, path: Path) -> None:
        while not path.exists():  # bounded by stop
            if await wait_or_stop(self._stop, FILE_POLL_SECONDS):
                return
        with path.open("rb") as source:
            while not self._stop.is_set():  # bounded by stop
                data = source.read(64 * PACKET_BYTES)
                if data:
                    self._publish(self.core.feed(data))
                elif await wait_or_stop(self._stop, FILE_POLL_SECONDS):
                    return


async def run_receiver(
    *,
    bearer: str,
    input: str,
    ebrid: str,
    anchors: TrustStore,
    broker_url: str,
    username: str | None,
    password: str | None,
    stop: asyncio.Event,
    pid: int = DEFAULT_PID,
    **_ignored: object,
) -> TsReceiver:
    """Run one TS receiver until ``stop`` is set; the receiver is returned for its counters."""
    receiver = TsReceiver(
        ebrid,
        anchors,
        input=input,
        broker_url=broker_url,
        username=username,
        password=password,
        pid=pid,
        bearer=bearer,
    )
    await receiver.start()
    try:
        await stop.wait()
    finally:
        await receiver.stop()
    return receiver
