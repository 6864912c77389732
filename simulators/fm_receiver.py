"""A simulated FM/RDS receiver with an IP return path: group text in, MQTT acks out.

It reads the group stream an FM adapter writes (``udp://HOST:PORT`` datagrams or a
``file:PATH`` it follows from the start), reassembles packets and checks, in this order:

1. the format: line, segments, length, CRC32, every field (refused by the error's code);
2. the addressing, before any crypto: codes naming neither this receiver nor a region holding
   it are ``out-of-region`` (another region's alert is no reason to spend a verification);
3. identical bytes to a packet already accepted: a carousel repeat, dropped quietly;
4. the signature against the anchors, the certificate's dates, the freshness window;
5. replay: per (start|stop|text part|..., EBMID) the signed time must move forward. An older or
   equal time with other bytes is a ``replay``; a newer time with the same content is the
   carousel re-signing, taken quietly; new content is acted upon.

Refusals are counted by reason and logged, never acked: a forged packet could otherwise make
receivers report REJECTED under a real alert id, and refusals outweigh receipts in coverage.
Accepted starts are acked VERIFIED then PLAYING (at the start time), PLAYED at the end time or
when the carousel has been silent for ``lapse_seconds``; stops are acked STOPPED. Acks are the
IP terminals' (protocols/terminal): ``Ack`` on ``ebc/v1/terminal/<ebrid>/ack``, QoS 1, client id
= EBRID, persistent session, retained Status with an offline last will.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
import ssl
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

from protocols.codes import ResourceCode
from protocols.errors import BinaryFormatError
from protocols.fm import (
    DEFAULT_AID,
    DEFAULT_GROUP,
    Action,
    Certificates,
    Emergency,
    FmFormatError,
    LineDecoder,
    Revocations,
    SignedPacket,
    StatusQuery,
    Text,
    TimeSync,
    addresses,
)
from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import terminal_topic
from signing.block import SignatureBlock, verify_payload
from signing.errors import SignatureError, UnknownCertificate
from signing.freshness import check_fresh
from signing.sm2 import SM2PublicKey
from signing.trust import Rights, TrustEntry, TrustStore
from terminals.link import BrokerAddress
from terminals.mqtt_terminal import wait_or_stop

log = logging.getLogger("ebc.fm_receiver")

FIRMWARE = "ebc-fm-sim/1"
TICK_SECONDS = 0.2
POLL_SECONDS = 0.1
CONNECT_TIMEOUT = 10.0
MEMORY = 4096
UDP_BUFFER = 1 << 20


@dataclass
class Broadcast:
    ebmid: str
    alert_id: str
    command_id: str
    drill: bool
    start_unix: int
    end_unix: int
    heard: float
    state: str = "waiting"  # waiting, playing, played, stopped, failed


@dataclass
class Stats:
    packets: int = 0
    accepted: int = 0
    repeats: int = 0
    refreshed: int = 0


@dataclass(frozen=True)
class _Seen:
    signed_at: int
    digest: bytes
    content: object


class ReturnPath:
    """The receiver's MQTT session, as an IP terminal's: QoS 1, persistent, retained status."""

    def __init__(self, url: str, ebrid: str, username: str | None, password: str | None) -> None:
        self.address = BrokerAddress.parse(url)
        self.ebrid = ebrid
        self._username = username or self.address.username
        self._password = password if password is not None else self.address.password
        self._client: gmqtt.Client | None = None

    def _status(self, online: bool) -> bytes:
        status = pb.Status(
            terminal_ebrid=self.ebrid,
            online=online,
            firmware=FIRMWARE,
            region=self.ebrid[1:13],
            at_unix=int(time.time()),
        )
        data: bytes = status.SerializeToString(deterministic=True)
        return data

    async def connect(self, stop: asyncio.Event) -> bool:
        delay = 0.5
        while not stop.is_set():
            topic = terminal_topic(self.ebrid, "status")
            will = gmqtt.Message(topic, self._status(False), qos=1, retain=True)
            client = gmqtt.Client(self.ebrid, clean_session=False, will_message=will)
            if self._username:
                client.set_auth_credentials(self._username, self._password)
            client.set_config({"reconnect_retries": -1, "reconnect_delay": 0.5})
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    await client.connect(
                        self.address.host,
                        self.address.port,
                        version=MQTTv311,
                        keepalive=30,
                        ssl=ssl.create_default_context() if self.address.tls else False,
                    )
            except (OSError, gmqtt.MQTTConnectError, TimeoutError) as exc:
                log.warning(
                    "%s: broker %s:%s unreachable (%s); retry in %.1f s",
                    self.ebrid,
                    self.address.host,
                    self.address.port,
                    exc or type(exc).__name__,
                    delay,
                )
                with contextlib.suppress(Exception):
                    await client.disconnect()
                if await wait_or_stop(stop, delay):
                    break
                delay = min(delay * 2, 30.0)
                continue
            self._client = client
            client.publish(topic, self._status(True), qos=1, retain=True)
            return True
        return False

    def publish(self, topic: str, payload: bytes) -> bool:
        if self._client is None:
            return False
        self._client.publish(topic, payload, qos=1)
        return True

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        client.publish(
            terminal_topic(self.ebrid, "status"), self._status(False), qos=1, retain=True
        )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.disconnect(), 5.0)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, receiver: FmReceiver) -> None:
        self.receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.receiver.feed_text(data.decode("ascii", errors="replace"))


class FmReceiver:
    def __init__(
        self,
        ebrid: str,
        anchors: TrustStore,
        *,
        input: str,
        broker_url: str | None,
        username: str | None = None,
        password: str | None = None,
        clock: Callable[[], float] = time.time,
        window: int = 300,
        future_skew: int = 60,
        lapse_seconds: float = 60.0,
        pi: int | None = None,
        aid: int = DEFAULT_AID,
        group: str = DEFAULT_GROUP,
    ) -> None:
        self.ebrid = ResourceCode(ebrid)
        self.anchors = anchors
        self.input = input
        self.counters: Counter[str] = Counter()  # refused input, by reason
        self.stats = Stats()
        self.acks: list[pb.Ack] = []
        self.broadcasts: OrderedDict[str, Broadcast] = OrderedDict()
        self.texts: dict[tuple[str, str], str] = {}
        self.clock_offset: float | None = None
        self._clock = clock
        self._window = window
        self._skew = future_skew
        self._lapse = lapse_seconds
        self._decoder = LineDecoder(aid=aid, group=group, pi=pi)
        self._seen: OrderedDict[tuple[object, ...], _Seen] = OrderedDict()
        self._parts: dict[tuple[str, str], dict[int, Text]] = {}
        self._current: Broadcast | None = None
        self._link = (
            ReturnPath(broker_url, self.ebrid.value, username, password) if broker_url else None
        )
        self._closers: list[Callable[[], None]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()  # set once the return path is up and the input is open

    # -- what the state looks like ------------------------------------------------------

    def state_of(self, ebmid: str) -> str | None:
        broadcast = self.broadcasts.get(ebmid)
        return broadcast.state if broadcast else None

    @property
    def playing(self) -> str | None:
        current = self._current
        return current.ebmid if current and current.state == "playing" else None

    # -- input --------------------------------------------------------------------------

    def feed_text(self, text: str) -> None:
        for line in text.splitlines():
            self.feed_line(line)

    def feed_line(self, line: str) -> None:
        for item in self._decoder.feed_line(line):
            if isinstance(item, FmFormatError):
                self._refuse(item.code, item.message)
            else:
                self.stats.packets += 1
                self._handle(item)

    def finish(self) -> None:
        """End of input: a packet still being built is lost."""
        for item in self._decoder.finish():
            if isinstance(item, FmFormatError):
                self._refuse(item.code, item.message)

    def tick(self) -> None:
        """Time moves on: a waiting broadcast starts, a playing one ends."""
        current, now = self._current, self._clock()
        if current is None:
            return
        if current.state == "waiting" and current.start_unix <= now:
            current.state = "playing"
            log.info(
                "%s: playing %s (alert %s)%s",
                self.ebrid,
                current.ebmid,
                current.alert_id,
                " [drill]" if current.drill else "",
            )
            self._ack(current.command_id, current.ebmid, current.alert_id, pb.ACK_PLAYING)
        if current.state == "playing" and (
            (current.end_unix and now >= current.end_unix)
            or (not current.end_unix and now - current.heard > self._lapse)
        ):
            current.state = "played"
            self._current = None
            log.info("%s: played %s", self.ebrid, current.ebmid)
            self._ack(current.command_id, current.ebmid, current.alert_id, pb.ACK_PLAYED)

    # -- checks -------------------------------------------------------------------------

    def _handle(self, signed: SignedPacket) -> None:
        packet = signed.packet
        if not addresses(packet.codes, self.ebrid):
            self._refuse("out-of-region", f"type {int(packet.packet_type)} for {packet.codes}")
            return
        key = _key(signed)
        digest = hashlib.sha256(signed.raw).digest()
        seen = self._seen.get(key)
        if seen is not None and seen.digest == digest:
            self.stats.repeats += 1
            self._heard(packet.body)
            return
        reason = self._verify(signed)
        if reason is not None:
            return
        signed_at = signed.seal.signed_at
        if seen is not None and signed_at <= seen.signed_at:
            self._refuse("replay", f"{key} signed at {signed_at}, already had {seen.signed_at}")
            return
        self._seen[key] = _Seen(signed_at, digest, packet)
        self._seen.move_to_end(key)
        while len(self._seen) > MEMORY:
            self._seen.popitem(last=False)
        if (
            seen is not None
            and seen.content == packet
            and isinstance(packet.body, Emergency | Text)
        ):
            self.stats.refreshed += 1
            self._heard(packet.body)
            return
        self.stats.accepted += 1
        self._act(signed)

    def _verify(self, signed: SignedPacket) -> str | None:
        """None when the packet may be acted on; else the refusal reason (already counted)."""
        try:
            block = SignatureBlock.from_bytes(signed.block)
            entry = self.anchors.get(block.cert_sn)
        except UnknownCertificate as exc:
            return self._refuse("unknown-certificate", exc.message)
        except (SignatureError, BinaryFormatError) as exc:
            return self._refuse("malformed", str(exc))
        if entry.revoked:
            return self._refuse("certificate-revoked", f"certificate {block.cert_sn}")
        if not verify_payload(signed.payload, block, entry.public_key):
            return self._refuse("forged", f"type {int(signed.packet.packet_type)} packet")
        now = self._clock()
        try:
            entry.check_valid_at(datetime.fromtimestamp(now, UTC))
        except SignatureError as exc:
            return self._refuse("certificate-expired", exc.message)
        try:
            check_fresh(block.signed_at, int(now), window=self._window, future_skew=self._skew)
        except SignatureError as exc:
            return self._refuse("stale", exc.message)
        return None

    def _refuse(self, reason: str, detail: str) -> str:
        self.counters[reason] += 1
        log.warning("%s: refused (%s): %s", self.ebrid, reason, detail)
        return reason

    # -- actions ------------------------------------------------------------------------

    def _act(self, signed: SignedPacket) -> None:
        body = signed.packet.body
        command_id = "fm-" + hashlib.sha256(signed.raw).hexdigest()[:16]
        if isinstance(body, Emergency) and body.action is Action.START:
            self._start(body, command_id)
        elif isinstance(body, Emergency):
            self._stop(body, command_id)
        elif isinstance(body, Text):
            self._text(body)
        elif isinstance(body, TimeSync):
            self.clock_offset = body.utc - self._clock()
            log.info("%s: time sync, clock off by %.1f s", self.ebrid, self.clock_offset)
        elif isinstance(body, StatusQuery):
            self._heartbeat()
        elif isinstance(body, Certificates):
            self._certificates(body, command_id)
        elif isinstance(body, Revocations):
            for serial in body.serials:
                with contextlib.suppress(UnknownCertificate):
                    self.anchors.revoke(serial)

    def _certificates(self, body: Certificates, command_id: str) -> None:
        for entry in body.entries:
            try:
                key = SM2PublicKey(entry.public_key)
            except (SignatureError, ValueError) as exc:
                # Signed by a trusted key, so a platform fault: say so, keep the others.
                log.error(
                    "%s: certificate %s in %s is unusable: %s",
                    self.ebrid,
                    entry.cert_sn,
                    command_id,
                    exc,
                )
                continue
            not_after = datetime.fromtimestamp(entry.not_after, UTC) if entry.not_after else None
            self.anchors.add(
                TrustEntry(
                    cert_sn=entry.cert_sn,
                    public_key=key,
                    name=f"FM certificate packet {command_id}",
                    holder_ebrid=None,
                    not_before=None,
                    not_after=not_after,
                    revoked=False,
                    rights=Rights.unrestricted(),
                )
            )

    def _start(self, start: Emergency, command_id: str) -> None:
        known = self.broadcasts.get(start.ebmid)
        if known is not None:
            if known.state in ("waiting", "playing"):  # an update: new end or alert id
                known.end_unix, known.alert_id = start.end_unix, start.alert_id or known.alert_id
                known.heard = self._clock()
            return  # finished broadcasts stay finished: a stop cannot be undone by a start
        now = self._clock()
        if start.end_unix and start.end_unix <= now:
            self._ack(command_id, start.ebmid, start.alert_id, pb.ACK_FAILED, "expired")
            return
        current = self._current
        if current is not None:
            current.state = "failed"
            self._ack(
                current.command_id,
                current.ebmid,
                current.alert_id,
                pb.ACK_FAILED,
                f"preempted by {start.ebmid}",
            )
        broadcast = Broadcast(
            start.ebmid,
            start.alert_id,
            command_id,
            start.drill,
            start.start_unix,
            start.end_unix,
            now,
        )
        self._remember(broadcast)
        self._current = broadcast
        self._ack(command_id, start.ebmid, start.alert_id, pb.ACK_VERIFIED)
        self.tick()

    def _stop(self, stop: Emergency, command_id: str) -> None:
        known = self.broadcasts.get(stop.ebmid)
        if known is None or known.state not in ("waiting", "playing"):
            if known is None:
                self._remember(
                    Broadcast(
                        stop.ebmid,
                        stop.alert_id,
                        command_id,
                        stop.drill,
                        0,
                        0,
                        self._clock(),
                        state="stopped",
                    )
                )
            self._ack(command_id, stop.ebmid, stop.alert_id, pb.ACK_STOPPED, "not-playing")
            return
        known.state = "stopped"
        if self._current is known:
            self._current = None
        log.info("%s: stopped %s", self.ebrid, stop.ebmid)
        self._ack(command_id, stop.ebmid, stop.alert_id or known.alert_id, pb.ACK_STOPPED)

    def _text(self, text: Text) -> None:
        key = (text.ebmid, text.language)
        parts = self._parts.setdefault(key, {})
        if any(p.parts != text.parts for p in parts.values()):
            parts.clear()  # the text was re-split: its old parts no longer fit
        parts[text.part] = text
        if len(parts) == text.parts:
            ordered = [parts[n] for n in range(text.parts)]
            self.texts[key] = " ".join(
                x for x in (ordered[0].title, "".join(p.text for p in ordered)) if x
            )
            del self._parts[key]
            log.info("%s: text %s [%s]: %s", self.ebrid, text.ebmid, text.language, self.texts[key])

    def _heard(self, body: object) -> None:
        if isinstance(body, Emergency) and body.action is Action.START:
            known = self.broadcasts.get(body.ebmid)
            if known is not None:
                known.heard = self._clock()

    def _remember(self, broadcast: Broadcast) -> None:
        self.broadcasts[broadcast.ebmid] = broadcast
        while len(self.broadcasts) > MEMORY:
            self.broadcasts.popitem(last=False)

    # -- return path --------------------------------------------------------------------

    def _ack(
        self, command_id: str, ebmid: str, alert_id: str, state: pb.AckState, reason: str = ""
    ) -> None:
        ack = pb.Ack(
            terminal_ebrid=self.ebrid.value,
            command_id=command_id,
            ebmid=ebmid,
            alert_id=alert_id,
            state=state,
            reason=reason,
            at_unix=int(self._clock()),
        )
        self.acks.append(ack)
        if self._link is not None and not self._link.publish(
            terminal_topic(self.ebrid, "ack"), ack.SerializeToString(deterministic=True)
        ):
            log.warning(
                "%s: no broker connection, ack %s not sent", self.ebrid, pb.AckState.Name(state)
            )

    def _heartbeat(self) -> None:
        playing = self.playing
        beat = pb.Heartbeat(
            terminal_ebrid=self.ebrid.value,
            firmware=FIRMWARE,
            state=pb.WORK_WORKING if playing else pb.WORK_IDLE,
            playing_ebmid=playing or "",
            at_unix=int(self._clock()),
        )
        if self._link is not None:
            self._link.publish(
                terminal_topic(self.ebrid, "heartbeat"), beat.SerializeToString(deterministic=True)
            )

    # -- running ------------------------------------------------------------------------

    async def start(self, stop: asyncio.Event) -> None:
        """Input open at once; the return path connects in the background, because a receiver
        must sound the alarm even when it cannot report. ``ready`` is set once both are up."""
        if self.input.startswith("file:"):
            self._tasks.append(asyncio.create_task(self._follow(Path(self.input[5:]), stop)))
        else:
            parts = urlsplit(self.input)
            if parts.scheme != "udp" or not parts.hostname or not parts.port:
                raise ValueError(f"input must be udp://HOST:PORT or file:PATH, got {self.input!r}")
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER)
            sock.bind((parts.hostname, parts.port))
            transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                lambda: _Datagrams(self), sock=sock
            )
            self._closers.append(transport.close)
        if self._link is None:
            self.ready.set()
        else:
            self._tasks.append(asyncio.create_task(self._connect(self._link, stop)))

    async def _connect(self, link: ReturnPath, stop: asyncio.Event) -> None:
        if await link.connect(stop):
            self.ready.set()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self.start(stop)
            while not await wait_or_stop(stop, TICK_SECONDS):
                self.tick()
        finally:
            await self.close()

    async def close(self) -> None:
        for close in self._closers:
            close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._closers.clear()
        self._tasks.clear()
        if self._link is not None:
            await self._link.close()

    async def _follow(self, path: Path, stop: asyncio.Event) -> None:
        position, pending = 0, ""
        while True:
            with contextlib.suppress(FileNotFoundError):
                size = path.stat().st_size
                if size < position:  # truncated or replaced: start over
                    position, pending = 0, ""
                if size > position:
                    with path.open("rb") as handle:
                        handle.seek(position)
                        chunk = handle.read(size - position)
                    position += len(chunk)
                    *lines, pending = (pending + chunk.decode("ascii", errors="replace")).split(
                        "\n"
                    )
                    for line in lines:
                        self.feed_line(line)
            if await wait_or_stop(stop, POLL_SECONDS):
                return


def _key(signed: SignedPacket) -> tuple[object, ...]:
    body = signed.packet.body
    if isinstance(body, Emergency):
        return ("start" if body.action is Action.START else "stop", body.ebmid)
    if isinstance(body, Text):
        return ("text", body.ebmid, body.language, body.part)
    return (int(signed.packet.packet_type),)


async def run_fm_receiver(
    *,
    ebrid: str,
    anchors: TrustStore,
    input: str,
    broker_url: str | None,
    username: str | None = None,
    password: str | None = None,
    stop: asyncio.Event,
    clock: Callable[[], float] = time.time,
    pi: int | None = None,
    aid: int = DEFAULT_AID,
    group: str = DEFAULT_GROUP,
    **ignored: Any,
) -> FmReceiver:
    """Run one receiver until ``stop`` is set; returned for its counters (the CLI prints them).

    The keywords are ``simulators.receivers.ReceiverRunner``'s; options meant for other bearers
    (``bearer``, the TS ``pid``) are ignored.
    """
    receiver = FmReceiver(
        ebrid,
        anchors,
        input=input,
        broker_url=broker_url,
        username=username,
        password=password,
        clock=clock,
        pi=pi,
        aid=aid,
        group=group,
    )
    await receiver.run(stop)
    return receiver
