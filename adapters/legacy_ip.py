"""Legacy IP loudspeakers (GD/J 089 Appendix D): a TCP server the loudspeakers dial into.

A terminal names itself in every frame it sends (its resource code opens each report body),
so the first heartbeat or report binds a connection to an EBRID. Terminals outside the
covered regions are refused and disconnected. Each start goes out as a signed 0x04 per batch
of targets, written to every target's connection; DELIVERED means that write succeeded.
Terminal reports come back as acks: 0x17 -> received/rejected, 0x18 -> playing,
0x19 -> played (failed when the terminal reports a failure). The gateway keeps the
(EBMID, on/off) -> alert id map the reports are matched with; it lives in memory only, so a
report for a broadcast sent before a restart is counted as ``unmatched`` and dropped.

Terminal health: ``terminals`` holds each one's state (online, working, fault, offline) and
last-seen time. When the context carries an ``inventory(ebrid, state)`` callable (plain or
async), it is called on every state change, so the platform can map it onto
``repo.upsert_terminals`` / ``repo.touch_terminal``.

Configuration: ``listen`` "HOST:PORT" (port 0 picks one; see ``port``), ``regions`` (12-digit
codes covered), ``heartbeat_timeout`` seconds of silence before a terminal counts as offline,
and optionally ``codes_per_frame``, ``write_timeout``, ``volume``, ``agency``, and
``simulate_terminals``: loopback only, for demos and the contract suite, start a simulated
terminal (simulators.legacy_terminal) for any covered target not connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import ipaddress
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.base import (
    AckReport,
    AdapterContext,
    Outcome,
    SendReport,
    TargetOutcome,
    Transmission,
)
from protocols.codes import RegionCode, ResourceCode
from protocols.errors import CodeError
from protocols.legacy_ip import (
    AUX_STREAM,
    VOLUME_DEFAULT,
    Addressing,
    Auxiliary,
    Body,
    BroadcastType,
    Clock,
    Command,
    Direction,
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
    reporter,
)
from signing.block import sign_payload

if TYPE_CHECKING:  # the simulator is imported only when a loopback demo asks for it
    from simulators.legacy_terminal import LoopbackFleet

log = logging.getLogger("ebc.adapters.legacy_ip")

_STATES = {WorkState.IDLE: "online", WorkState.WORKING: "working", WorkState.FAULT: "fault"}
_REMEMBERED_BROADCASTS = 10_000
_READ_SIZE = 4096


@dataclass
class TerminalStatus:
    state: str
    last_seen: dt.datetime
    connected: bool
    peer: str = ""
    playing: str | None = None


@dataclass(frozen=True)
class GatewayConfig:
    host: str
    port: int
    regions: tuple[RegionCode, ...]
    heartbeat_timeout: float = 90.0
    codes_per_frame: int = 32
    write_timeout: float = 5.0
    volume: int = VOLUME_DEFAULT
    agency: str = ""
    simulate_terminals: bool = False
    identify_timeout: float = 5.0

    @classmethod
    def parse(cls, config: dict[str, Any]) -> GatewayConfig:
        def fail(key: str, why: str) -> ValueError:
            return ValueError(f"legacy-ip setting {key!r}: {why}")

        listen = str(config.get("listen", ""))
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit() or int(port) > 65535:
            raise fail("listen", f"expected HOST:PORT, got {listen!r}")
        try:
            regions = tuple(RegionCode.parse(str(r)) for r in config.get("regions", ()))
        except CodeError as exc:
            raise fail("regions", exc.message) from exc
        if not regions:
            raise fail("regions", "list at least one covered region code")
        parsed = cls(
            host=host,
            port=int(port),
            regions=regions,
            heartbeat_timeout=float(config.get("heartbeat_timeout", 90.0)),
            codes_per_frame=int(config.get("codes_per_frame", 32)),
            write_timeout=float(config.get("write_timeout", 5.0)),
            volume=int(config.get("volume", VOLUME_DEFAULT)),
            agency=str(config.get("agency", "")),
            simulate_terminals=bool(config.get("simulate_terminals", False)),
        )
        for key in ("heartbeat_timeout", "codes_per_frame", "write_timeout"):
            if getattr(parsed, key) <= 0:
                raise fail(key, "must be positive")
        if parsed.simulate_terminals and not _is_loopback(host):
            raise fail("simulate_terminals", f"only on a loopback listen address, not {host}")
        return parsed

    def covers(self, code: ResourceCode) -> bool:
        return any(region.contains(code.region) for region in self.regions)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class _Connection:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.ebrid: str | None = None
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    async def write(self, data: bytes, timeout: float) -> None:
        if self.writer.is_closing():
            raise ConnectionError("the connection is closing")
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), timeout)


class LegacyIpGateway:
    bearer = "legacy-ip"

    def __init__(self, ebrid: str, config: dict[str, Any], context: AdapterContext) -> None:
        if context.signer is None:
            raise ValueError("the legacy IP gateway needs the platform's signer")
        self.ebrid = ebrid
        self.config = GatewayConfig.parse(config)
        self.port = self.config.port
        #: Simulates a lost transport: nothing is written while set.
        self.down = bool(config.get("down", False))
        self.terminals: dict[str, TerminalStatus] = {}
        self.refused: Counter[str] = Counter()
        self._context = context
        self._signer = context.signer
        self._by_ebrid: dict[str, _Connection] = {}
        self._handlers: set[asyncio.Task[Any]] = set()
        self._alerts: OrderedDict[tuple[str, bool], str] = OrderedDict()
        self._identified: dict[str, asyncio.Event] = {}
        self._sequence = 0
        self._server: asyncio.Server | None = None
        self._fleet: LoopbackFleet | None = None

    @classmethod
    def factory(
        cls, ebrid: str, config: dict[str, Any], context: AdapterContext
    ) -> LegacyIpGateway:
        return cls(ebrid, config, context)

    @classmethod
    def example_config(cls, tmp_path: Path) -> dict[str, Any]:
        """Loopback, ephemeral port; simulated terminals stand in for the field, so a send to
        covered targets is really written to connected loudspeakers."""
        return {
            "listen": "127.0.0.1:0",
            "regions": ["341523000000"],
            "heartbeat_timeout": 90,
            "simulate_terminals": True,
        }

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.config.host, self.config.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("legacy IP gateway %s listening on %s:%d", self.ebrid, self.config.host, self.port)

    async def stop(self) -> None:
        if self._fleet is not None:
            await self._fleet.close()
            self._fleet = None
        if self._server is not None:
            self._server.close()
        for connection in list(self._by_ebrid.values()):
            connection.writer.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def _now(self) -> dt.datetime:
        return self._context.clock()

    def _frame(self, body: Body, *, sequence: int | None = None) -> bytes:
        if sequence is None:
            self._sequence = (self._sequence + 1) & 0xFF
            sequence = self._sequence
        signer, signed_at = self._signer, int(self._now().timestamp())
        assert signer is not None

        def sign(payload: bytes) -> bytes:
            return sign_payload(payload, signer, signed_at).to_bytes()

        return encode_frame(
            Direction.DOWN, body.COMMAND, body.to_bytes(), sequence=sequence, sign=sign
        )

    # --- the server side -------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        connection = _Connection(writer)
        try:
            now = int(self._now().timestamp())
            await connection.write(self._frame(Clock(now)), self.config.write_timeout)
            await self._read(connection, reader)
        except (ConnectionError, OSError, TimeoutError) as exc:
            log.info("legacy terminal connection %s ended: %s", connection.peer, exc)
        finally:
            writer.close()
            await self._lost(connection)
            if task is not None:
                self._handlers.discard(task)

    async def _read(self, connection: _Connection, reader: asyncio.StreamReader) -> None:
        stream = FrameReader()
        while not reader.at_eof():
            try:
                data = await asyncio.wait_for(
                    reader.read(_READ_SIZE), self.config.heartbeat_timeout
                )
            except TimeoutError:
                log.warning(
                    "%s silent for %.0f s",
                    connection.ebrid or connection.peer,
                    self.config.heartbeat_timeout,
                )
                return
            try:
                frames = stream.feed(data)
            except LegacyFrameError as exc:
                self.refused[exc.code] += 1
                return  # framing is lost; the terminal reconnects for a clean stream
            for raw in frames:
                if not await self._on_frame(connection, raw):
                    return

    async def _on_frame(self, connection: _Connection, raw: bytes) -> bool:
        """False when the connection must be dropped."""
        try:
            frame = decode_frame(raw, expect=Direction.UP)
            body = body_of(frame)
        except LegacyFrameError as exc:
            self.refused[exc.code] += 1
            return True
        who = reporter(body)
        if who is None:
            self.refused["unexpected-command"] += 1
            return True
        if connection.ebrid is None:
            if not await self._identify(connection, who):
                return False
        elif who != connection.ebrid:
            self.refused["ebrid-mismatch"] += 1
            return True
        status = self.terminals[who]
        status.last_seen = self._now()
        if isinstance(body, Heartbeat):
            status.playing = body.ebmid
            await self._set_state(who, _STATES[body.state])
            reply = GeneralReply(Command.HEARTBEAT, 0)
            with contextlib.suppress(ConnectionError, TimeoutError):
                await connection.write(
                    self._frame(reply, sequence=frame.sequence), self.config.write_timeout
                )
        else:
            await self._report(who, body)
        return True

    async def _identify(self, connection: _Connection, ebrid: str) -> bool:
        try:
            code = ResourceCode(ebrid)
        except CodeError:
            self.refused["bad-resource-code"] += 1
            return False
        if not self.config.covers(code):
            self.refused["not-covered"] += 1
            log.warning(
                "terminal %s from %s is outside the covered regions", ebrid, connection.peer
            )
            return False
        previous = self._by_ebrid.get(ebrid)
        if previous is not None:
            previous.writer.close()  # the terminal reconnected before its old socket died
        connection.ebrid = ebrid
        self._by_ebrid[ebrid] = connection
        self.terminals[ebrid] = TerminalStatus("online", self._now(), True, connection.peer)
        await self._notify(ebrid, "online")
        self._identified.setdefault(ebrid, asyncio.Event()).set()
        return True

    async def _lost(self, connection: _Connection) -> None:
        ebrid = connection.ebrid
        if ebrid is None or self._by_ebrid.get(ebrid) is not connection:
            return
        del self._by_ebrid[ebrid]
        if ebrid in self._identified:
            self._identified[ebrid].clear()
        status = self.terminals[ebrid]
        status.connected, status.playing = False, None
        await self._set_state(ebrid, "offline")

    async def _set_state(self, ebrid: str, state: str) -> None:
        status = self.terminals[ebrid]
        if status.state != state:
            status.state = state
            await self._notify(ebrid, state)

    async def _notify(self, ebrid: str, state: str) -> None:
        hook = getattr(self._context, "inventory", None)
        if not callable(hook):
            return
        try:
            result = hook(ebrid, state)
            if inspect.isawaitable(result):
                await result
        except Exception:  # the platform's bookkeeping must not cut a loudspeaker off
            log.exception("inventory hook failed for %s (%s)", ebrid, state)

    async def _report(self, ebrid: str, body: Body) -> None:
        if isinstance(body, StartStopReply):
            on, result = body.on, body.result
            state = "received" if result is ReplyResult.ACCEPTED else "rejected"
            detail: dict[str, Any] = {"result": result.name.lower()}
        elif isinstance(body, TaskStart):
            on, state, detail = True, "playing", {}
        elif isinstance(body, TaskEnd):
            on = True
            state = "failed" if body.result is TaskEndResult.FAILED else "played"
            detail = {"result": body.result.name.lower()}
        else:
            self.refused["unexpected-command"] += 1
            return
        alert_id = self._alerts.get((body.ebmid, on))
        if alert_id is None:
            self.refused["unmatched"] += 1
            return
        detail |= {"ebmid": body.ebmid, "bearer": self.bearer}
        ack = AckReport(alert_id, ebrid, state, detail, self._now())
        await self._context.acks.submit([ack])

    # --- the platform side -----------------------------------------------------------------

    def _remember(self, ebmid: str, on: bool, alert_id: str) -> None:
        self._alerts[(ebmid, on)] = alert_id
        self._alerts.move_to_end((ebmid, on))
        while len(self._alerts) > _REMEMBERED_BROADCASTS:
            self._alerts.popitem(last=False)

    def _command(
        self, transmission: Transmission, ebmid: str, on: bool
    ) -> Callable[[Sequence[str]], StartStop]:
        drill = transmission.drill or transmission.msg_type in (3, 4, 5)
        url = str(transmission.extra.get("audio_url", ""))
        start = int(transmission.start.timestamp()) if transmission.start else 0
        end = int(transmission.end.timestamp()) if transmission.end else 0
        language = transmission.texts[0][0] if transmission.texts else "zho"

        def build(codes: Sequence[str]) -> StartStop:
            return StartStop(
                ebmid=ebmid,
                on=on,
                # a drill must never raise a legacy terminal's emergency override
                broadcast_type=BroadcastType.DAILY if drill else BroadcastType.EMERGENCY,
                event_type=transmission.event_type,
                level=transmission.severity if 0 <= transmission.severity <= 4 else 0,
                start=start if on else 0,
                end=end if on else 0,
                volume=self.config.volume,
                addressing=Addressing.RESOURCE_CODE,
                addresses=tuple(codes),
                language=language if len(language) == 3 else "zho",
                agency=self.config.agency,
                auxiliary=Auxiliary(AUX_STREAM, url.encode()) if url and on else None,
            )

        return build

    async def send(self, transmission: Transmission) -> SendReport:
        if transmission.msg_type == 2:
            return await self.cancel(transmission)
        self._remember(transmission.ebmid, True, transmission.alert_id)
        build = self._command(transmission, transmission.ebmid, True)
        return await self._deliver(transmission.targets, build)

    async def cancel(self, transmission: Transmission) -> SendReport:
        ebmid = str(transmission.extra.get("cancels") or transmission.ebmid)
        self._remember(ebmid, False, transmission.alert_id)
        return await self._deliver(transmission.targets, self._command(transmission, ebmid, False))

    async def query(self, ebrid: str) -> bool:
        """Ask one connected terminal for its state (0x08); it answers with a 0x20 status.

        False when it is not connected or the write failed."""
        connection = self._by_ebrid.get(ebrid)
        if connection is None or self.down:
            return False
        try:
            await connection.write(self._frame(Query(ebrid)), self.config.write_timeout)
        except (ConnectionError, OSError, TimeoutError):
            return False
        return True

    async def _deliver(
        self, targets: Sequence[str], build: Callable[[Sequence[str]], StartStop]
    ) -> SendReport:
        wanted = list(dict.fromkeys(targets))
        if self.down:
            return SendReport(
                tuple(TargetOutcome(t, Outcome.FAILED, "transport down") for t in wanted)
            )
        if self.config.simulate_terminals:
            await self._simulate(wanted)
        outcomes: dict[str, TargetOutcome] = {}
        connected: list[str] = []
        for target in wanted:
            if not (len(target) == 23 and target.isascii() and target.isdigit()):
                outcomes[target] = TargetOutcome(target, Outcome.FAILED, "not a resource code")
            elif target in self._by_ebrid:
                connected.append(target)
            else:
                outcomes[target] = TargetOutcome(target, Outcome.UNREACHABLE, "not connected")
        size = self.config.codes_per_frame
        for first in range(0, len(connected), size):
            batch = connected[first : first + size]
            frame = self._frame(build(batch))
            results = await asyncio.gather(
                *(self._by_ebrid[t].write(frame, self.config.write_timeout) for t in batch),
                return_exceptions=True,
            )
            for target, result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    detail = f"write failed: {type(result).__name__}: {result}"
                    outcomes[target] = TargetOutcome(target, Outcome.FAILED, detail)
                else:
                    outcomes[target] = TargetOutcome(target, Outcome.DELIVERED)
        return SendReport(tuple(outcomes[t] for t in wanted))

    async def _simulate(self, targets: Sequence[str]) -> None:
        missing = []
        for target in targets:
            with contextlib.suppress(CodeError):
                if target not in self._by_ebrid and self.config.covers(ResourceCode(target)):
                    missing.append(target)
        if not missing:
            return
        if self._fleet is None:
            from signing.trust import Rights, TrustEntry, TrustStore
            from simulators.legacy_terminal import LoopbackFleet

            assert self._signer is not None
            entry = TrustEntry(
                self._signer.cert_sn,
                self._signer.public_key,
                "this platform",
                None,
                None,
                None,
                False,
                Rights.unrestricted(),
            )
            self._fleet = LoopbackFleet(
                TrustStore([entry]),
                host=self.config.host,
                port=self.port,
                clock=self._context.clock,
            )
        await self._fleet.ensure(missing)
        waits = [self._identified.setdefault(t, asyncio.Event()).wait() for t in missing]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*waits), self.config.identify_timeout)
