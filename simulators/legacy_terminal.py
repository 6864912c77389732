"""A legacy IP loudspeaker (GD/J 089 Appendix D) that dials the gateway, simulated.

It checks every frame as a field device should (CRC, signature against its trust anchors,
the signer's rights over its region, freshness of the signed time, that it is addressed) and
refuses the rest without acting on it: each refusal is counted under its reason in
``refused``. Accepted starts are answered 0x17, then reported 0x18 and, after
``play_seconds`` of simulated playback, 0x19. Its own frames carry a block with its time, a
zero certificate serial and a zero signature unless it is given a signer (the digest does not
say whether terminals sign; see docs/legacy-loudspeakers.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from protocols.codes import CertSN, ResourceCode
from protocols.errors import BinaryFormatError
from protocols.legacy_ip import (
    Addressing,
    Body,
    Clock,
    Command,
    Direction,
    Frame,
    FrameReader,
    GeneralReply,
    Heartbeat,
    LegacyFrameError,
    Query,
    ReplyResult,
    StartStop,
    StartStopReply,
    TaskEnd,
    TaskEndResult,
    TaskStart,
    WorkState,
    body_of,
    decode_frame,
    encode_frame,
)
from signing.block import SignatureBlock, check_payload, sign_payload
from signing.errors import SignatureError
from signing.freshness import DEFAULT_FRESHNESS_SECONDS, DEFAULT_FUTURE_SKEW_SECONDS, check_fresh
from signing.signer import Signer
from signing.trust import TrustEntry, TrustStore

log = logging.getLogger("ebc.simulators.legacy")

UNSIGNED = CertSN("000000000000")
_REMEMBERED_COMMANDS = 1024


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Admitted:
    frame: Frame
    body: Body
    entry: TrustEntry


class LegacyTerminal:
    def __init__(
        self,
        ebrid: str,
        anchors: TrustStore,
        *,
        host: str = "127.0.0.1",
        port: int,
        clock: Callable[[], dt.datetime] = _utcnow,
        signer: Signer | None = None,
        physical_address: str = "",
        heartbeat_interval: float = 30.0,
        play_seconds: float = 0.2,
        volume: int = 60,
        window: int = DEFAULT_FRESHNESS_SECONDS,
        future_skew: int = DEFAULT_FUTURE_SKEW_SECONDS,
        backoff: tuple[float, float] = (0.05, 2.0),
        max_attempts: int = 10_000,
    ) -> None:
        code = ResourceCode(ebrid)
        self.ebrid = code.value
        self.region = code.region
        self.physical_address = physical_address.lower()
        self._anchors = anchors
        self._host, self._port = host, port
        self._clock = clock
        self._signer = signer
        self._interval = heartbeat_interval
        self._play_seconds = play_seconds
        self._window, self._skew = window, future_skew
        self._backoff = backoff
        self._max_attempts = max_attempts
        self.volume = volume
        self.state = WorkState.IDLE
        self.playing: str | None = None
        self.clock_set: int | None = None
        self.refused: Counter[str] = Counter()
        self.accepted: Counter[Command] = Counter()
        self.duplicates = 0
        self.connections = 0
        self.sent: list[Body] = []
        self.received: list[Body] = []  # every body admitted, in order
        self.finished: list[tuple[str, TaskEndResult]] = []
        self.connected = asyncio.Event()
        self._seen: OrderedDict[tuple[str, bool], None] = OrderedDict()
        self._sequence = 0
        self._writer: asyncio.StreamWriter | None = None
        self._runner: asyncio.Task[None] | None = None
        self._playback: asyncio.Task[None] | None = None

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name=f"legacy-terminal-{self.ebrid}")

    async def stop(self) -> None:
        for task in (self._runner, self._playback):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._runner = self._playback = None
        self._drop_writer()

    def _drop_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.connected.clear()

    async def _run(self) -> None:
        first, cap = self._backoff
        delay = first
        for _ in range(self._max_attempts):
            try:
                reader, writer = await asyncio.open_connection(self._host, self._port)
            except OSError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, cap)
                continue
            delay = first
            self.connections += 1
            try:
                await self._session(reader, writer)
            except (ConnectionError, OSError) as exc:
                log.info("%s lost the gateway: %s", self.ebrid, exc)
            finally:
                self._drop_writer()
            # a gateway that accepts and drops at once must not be hammered
            await asyncio.sleep(delay)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        await self._send(self._heartbeat())
        self.connected.set()
        beat = asyncio.create_task(self._beat())
        stream = FrameReader()
        try:
            while not reader.at_eof():
                data = await reader.read(4096)
                try:
                    frames = stream.feed(data)
                except LegacyFrameError as exc:
                    self.refused[exc.code] += 1
                    return  # framing is lost: reconnect for a clean stream
                for raw in frames:
                    await self.receive(raw)
        finally:
            beat.cancel()

    async def _beat(self) -> None:
        while self._writer is not None:
            await asyncio.sleep(self._interval)
            await self._send(self._heartbeat())

    def _heartbeat(self) -> Heartbeat:
        return Heartbeat(self.ebrid, self.state, self.volume, self.playing)

    def _now(self) -> int:
        return int(self._clock().timestamp())

    def _block(self, payload: bytes) -> bytes:
        if self._signer is not None:
            return sign_payload(payload, self._signer, self._now()).to_bytes()
        return SignatureBlock(self._now(), UNSIGNED, bytes(64)).to_bytes()

    async def _send(self, body: Body, *, sequence: int | None = None) -> None:
        if sequence is None:
            self._sequence = (self._sequence + 1) & 0xFF
            sequence = self._sequence
        raw = encode_frame(
            Direction.UP, body.COMMAND, body.to_bytes(), sequence=sequence, sign=self._block
        )
        self.sent.append(body)
        writer = self._writer
        if writer is None or writer.is_closing():
            return
        try:
            writer.write(raw)
            await writer.drain()
        except (ConnectionError, OSError) as exc:
            log.info("%s could not send 0x%02X: %s", self.ebrid, body.COMMAND, exc)

    def admit(self, raw: bytes) -> Admitted | None:
        """The frame if it may be acted on; otherwise None, with the reason counted."""
        try:
            frame = decode_frame(raw, expect=Direction.DOWN)
            body = body_of(frame)
            block = SignatureBlock.from_bytes(frame.block)
        except BinaryFormatError as exc:
            self.refused[exc.code] += 1
            return None
        now = self._clock()
        try:
            entry = check_payload(frame.payload, block, self._anchors, at=now)
            check_fresh(
                block.signed_at, int(now.timestamp()), window=self._window, future_skew=self._skew
            )
        except SignatureError as exc:
            self.refused[exc.code] += 1
            return None
        if not entry.rights.allows_region(self.region):
            self.refused["not-authorised"] += 1
            return None
        return Admitted(frame, body, entry)

    async def receive(self, raw: bytes) -> None:
        admitted = self.admit(raw)
        if admitted is None:
            return
        body, sequence = admitted.body, admitted.frame.sequence
        self.received.append(body)
        if isinstance(body, StartStop):
            await self._start_stop(body, sequence, admitted.entry)
            return
        if isinstance(body, Query) and body.target == self.ebrid:
            self.accepted[Command.QUERY] += 1
            await self._send(self._heartbeat(), sequence=sequence)
        elif isinstance(body, Clock):
            self.accepted[Command.CLOCK] += 1
            self.clock_set = body.time
        elif isinstance(body, GeneralReply):
            self.accepted[Command.GENERAL_REPLY] += 1
        elif isinstance(body, Query):
            self.refused["not-addressed"] += 1
        else:
            self.refused["unexpected-command"] += 1

    def _addressed(self, command: StartStop) -> bool:
        if command.addressing is Addressing.RESOURCE_CODE:
            return self.ebrid in command.addresses
        return bool(self.physical_address) and self.physical_address in command.addresses

    async def _start_stop(self, command: StartStop, sequence: int, entry: TrustEntry) -> None:
        def reply(result: ReplyResult) -> StartStopReply:
            return StartStopReply(self.ebrid, command.ebmid, command.on, result)

        if not self._addressed(command):
            self.refused["not-addressed"] += 1
            return
        if command.on and not entry.rights.allows_event(command.event_type):
            self.refused["not-authorised"] += 1
            await self._send(reply(ReplyResult.REFUSED), sequence=sequence)
            return
        key = (command.ebmid, command.on)
        if key in self._seen:
            self.duplicates += 1  # a re-send: answer again, act once
            await self._send(reply(ReplyResult.ACCEPTED), sequence=sequence)
            return
        self._remember(key)
        self.accepted[Command.START_STOP] += 1
        await self._send(reply(ReplyResult.ACCEPTED), sequence=sequence)
        if command.on:
            await self._end_current(TaskEndResult.STOPPED)
            await self._begin(command.ebmid)
        elif self.playing == command.ebmid:
            await self._end_current(TaskEndResult.STOPPED)

    def _remember(self, key: tuple[str, bool]) -> None:
        self._seen[key] = None
        while len(self._seen) > _REMEMBERED_COMMANDS:
            self._seen.popitem(last=False)

    async def _begin(self, ebmid: str) -> None:
        self.playing, self.state = ebmid, WorkState.WORKING
        await self._send(TaskStart(self.ebrid, ebmid, self._now()))
        self._playback = asyncio.create_task(self._play(ebmid))

    async def _play(self, ebmid: str) -> None:
        await asyncio.sleep(self._play_seconds)
        self._playback = None  # from here on a stop must not cancel the end report
        await self._finish(ebmid, TaskEndResult.COMPLETED)

    async def _end_current(self, result: TaskEndResult) -> None:
        if self._playback is not None:
            self._playback.cancel()
            self._playback = None
        if self.playing is not None:
            await self._finish(self.playing, result)

    async def _finish(self, ebmid: str, result: TaskEndResult) -> None:
        if self.playing != ebmid:
            return
        self.playing, self.state = None, WorkState.IDLE
        self.finished.append((ebmid, result))
        await self._send(TaskEnd(self.ebrid, ebmid, self._now(), result))


class LoopbackFleet:
    """Terminals a gateway starts for itself on loopback (its ``simulate_terminals`` setting)."""

    def __init__(
        self,
        anchors: TrustStore,
        *,
        host: str,
        port: int,
        clock: Callable[[], dt.datetime],
        play_seconds: float = 0.2,
    ) -> None:
        self._anchors = anchors
        self._host, self._port = host, port
        self._clock = clock
        self._play_seconds = play_seconds
        self.terminals: dict[str, LegacyTerminal] = {}

    async def ensure(self, ebrids: Iterable[str]) -> None:
        for ebrid in ebrids:
            if ebrid in self.terminals:
                continue
            terminal = LegacyTerminal(
                ebrid,
                self._anchors,
                host=self._host,
                port=self._port,
                clock=self._clock,
                play_seconds=self._play_seconds,
            )
            self.terminals[ebrid] = terminal
            await terminal.start()

    async def close(self) -> None:
        for terminal in self.terminals.values():
            await terminal.stop()
        self.terminals.clear()
