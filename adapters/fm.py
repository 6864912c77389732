"""Analogue FM with RDS (GY/T 390): signed packets as RDS group text, repeated in a carousel.

A receiver may tune in at any moment and the RDS channel has no return path, so an alert is not
sent once: its packets (time sync 3, emergency/drill start 11/14, texts 15) are written again
every ``repeat_seconds`` until the alert's end (at most ``max_carousel_seconds``). Each
repetition is signed anew when the clock has moved on, so a late listener sees a fresh signed
time and receivers can enforce a freshness window; within one second the bytes stay identical,
which receivers drop as plain repeats. Delivered means the first repetition reached the output
(the RDS encoder's input): what receivers did comes back as acks on their own return path.

Addressing (docs/fm-rds.md): the targets' EBRIDs when every target is an EBRID and there are at
most ``max_codes`` of them, else one region code per task region. The platform's alert id
travels in the start packet's alert-id extension, so receivers can echo it in their acks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from adapters.base import AdapterContext, Outcome, SendReport, TargetOutcome, Transmission
from protocols.codes import RegionCode, ResourceCode
from protocols.errors import CodeError
from protocols.fm import (
    AIR_GROUPS_PER_SECOND,
    DEFAULT_AID,
    DEFAULT_GROUP,
    MAX_CODES,
    Action,
    Emergency,
    Packet,
    RdsProfile,
    TimeSync,
    body_budget,
    encode_packet,
    region_code,
    split_text,
)
from signing.block import sign_payload
from signing.signer import Signer

log = logging.getLogger("ebc.adapters.fm")

# UDP datagrams sent in one go before yielding: a receiver in the same event loop (or a slow
# one elsewhere) must get to read before its socket buffer overflows.
UDP_BATCH = 32
NO_EVENT_TYPE = "00000"
_KEYS = {
    "site",
    "frequency_khz",
    "pi_code",
    "regions",
    "output",
    "repeat_seconds",
    "max_carousel_seconds",
    "stop_repetitions",
    "time_sync",
    "audio_frequency_khz",
    "max_codes",
    "aid",
    "data_group",
    "tp",
    "pty",
}


class Output(Protocol):
    batch: int

    def write(self, lines: Sequence[str]) -> None: ...

    def close(self) -> None: ...


class UdpOutput:
    """One datagram per line, ASCII, no newline."""

    batch = UDP_BATCH

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self._sock: socket.socket | None = None

    def write(self, lines: Sequence[str]) -> None:
        if self._sock is None:
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for line in lines:
            self._sock.sendto(line.encode("ascii"), self.address)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class FileOutput:
    """Appends lines; opened per write, so a rotated or removed file is simply started anew."""

    batch = 1 << 30

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, lines: Sequence[str]) -> None:
        with self.path.open("a", encoding="ascii") as handle:
            handle.write("".join(f"{line}\n" for line in lines))

    def close(self) -> None:
        return None


def open_output(spec: str) -> Output:
    """``udp://HOST:PORT`` or ``file:PATH``."""
    if spec.startswith("file:"):
        if not spec[5:]:
            raise ValueError("output file:PATH needs a path")
        return FileOutput(Path(spec[5:]))
    parts = urlsplit(spec)
    if parts.scheme == "udp" and parts.hostname and parts.port:
        return UdpOutput(parts.hostname, parts.port)
    raise ValueError(f"output must be udp://HOST:PORT or file:PATH, got {spec!r}")


def _number(
    config: dict[str, Any], key: str, default: float | None, low: float, high: float
) -> float:
    value = config.get(key, default)
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"FM adapter config: {key} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"FM adapter config: {key} must be within {low}-{high}, got {value}")
    return value


def _hex16(value: object, key: str) -> int:
    """An int, or hex text with or without 0x: PI codes and AIDs are written in hex."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value.removeprefix("0x").removeprefix("0X"), 16)
    raise ValueError(f"FM adapter config: {key} must be a 16-bit hex code, got {value!r}")


@dataclass(frozen=True)
class FmConfig:
    site: str
    frequency_khz: int
    profile: RdsProfile
    regions: tuple[RegionCode, ...]
    output: str
    repeat_seconds: float = 2.0
    max_carousel_seconds: float = 3600.0
    stop_repetitions: int = 3
    time_sync: bool = True
    audio_frequency_khz: int | None = None
    max_codes: int = 32

    @classmethod
    def parse(cls, config: dict[str, Any]) -> FmConfig:
        # Strict: a misspelt key silently falling back to a default is a wrong broadcast.
        unknown = sorted(set(config) - _KEYS)
        if unknown:
            raise ValueError(f"FM adapter config: unknown keys {unknown} (known: {sorted(_KEYS)})")
        for key in ("site", "output"):
            if not isinstance(config.get(key), str) or not config[key]:
                raise ValueError(f"FM adapter config: {key} is required (a non-empty string)")
        audio = config.get("audio_frequency_khz")
        try:
            profile = RdsProfile(
                pi=_hex16(config.get("pi_code"), "pi_code"),
                aid=_hex16(config.get("aid", DEFAULT_AID), "aid"),
                group=str(config.get("data_group", DEFAULT_GROUP)),
                tp=bool(config.get("tp", False)),
                pty=int(_number(config, "pty", 0, 0, 31)),
            )
            regions = tuple(RegionCode.parse(r) for r in config.get("regions", []))
        except CodeError as exc:
            raise ValueError(f"FM adapter config: regions: {exc.message}") from exc
        except ValueError as exc:
            raise ValueError(f"FM adapter config: {exc}") from exc
        return cls(
            site=config["site"],
            frequency_khz=int(_number(config, "frequency_khz", None, 64_000, 108_000)),
            profile=profile,
            regions=regions,
            output=config["output"],
            repeat_seconds=_number(config, "repeat_seconds", 2.0, 0.05, 3600),
            max_carousel_seconds=_number(config, "max_carousel_seconds", 3600.0, 0, 86_400),
            stop_repetitions=int(_number(config, "stop_repetitions", 3, 1, 100)),
            time_sync=bool(config.get("time_sync", True)),
            audio_frequency_khz=(
                None
                if audio is None
                else int(_number(config, "audio_frequency_khz", None, 64_000, 108_000))
            ),
            max_codes=int(_number(config, "max_codes", 32, 1, MAX_CODES)),
        )


def _all(targets: Sequence[str], outcome: Outcome, detail: str = "") -> SendReport:
    return SendReport(tuple(TargetOutcome(t, outcome, detail) for t in targets))


class Rendering:
    """Packets -> signed group lines, re-signed only when the signing second changes."""

    def __init__(
        self, build: Callable[[int], list[Packet]], profile: RdsProfile, signer: Signer
    ) -> None:
        self._build = build
        self._profile = profile
        self._signer = signer
        self._cached: tuple[int, list[str]] | None = None

    def lines(self, signed_at: int) -> list[str]:
        if self._cached is None or self._cached[0] != signed_at:
            packets = [
                encode_packet(
                    p, lambda payload: sign_payload(payload, self._signer, signed_at).to_bytes()
                )
                for p in self._build(signed_at)
            ]
            self._cached = (signed_at, self._profile.lines(packets))
        return self._cached[1]


class FmAdapter:
    bearer = "fm"

    def __init__(self, ebrid: str, config: dict[str, Any], context: AdapterContext) -> None:
        if context.signer is None:
            raise ValueError("the FM adapter needs the platform's signer")
        self.ebrid = ebrid
        self.config = FmConfig.parse(config)
        self.down = False  # simulates a lost output: nothing reaches the encoder
        self._context = context
        self._signer = context.signer
        self._output = open_output(self.config.output)
        self._lock = asyncio.Lock()
        self._carousels: dict[str, asyncio.Task[None]] = {}
        self.repetitions: dict[str, int] = {}
        self._warned_air = False

    @classmethod
    def factory(cls, ebrid: str, config: dict[str, Any], context: AdapterContext) -> FmAdapter:
        return cls(ebrid, config, context)

    @classmethod
    def example_config(cls, tmp_path: Path) -> dict[str, Any]:
        return {
            "site": "舒城县调频广播发射台 (example)",
            "frequency_khz": 97_500,
            "pi_code": "3456",
            "regions": ["341523000000"],
            "output": f"file:{tmp_path / 'fm-groups.txt'}",
            "repeat_seconds": 0.5,
        }

    @property
    def carousels(self) -> list[str]:
        """What is on the air: start carousels by EBMID, stop carousels as ``stop:<EBMID>``."""
        return sorted(key for key, task in self._carousels.items() if not task.done())

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for key in list(self._carousels):
            await self._end(key)
        self._output.close()

    async def send(self, transmission: Transmission) -> SendReport:
        return await self._broadcast(transmission, stop=False)

    async def cancel(self, transmission: Transmission) -> SendReport:
        """Stop the cancelled EBMID's carousel first, so no start can follow the stop."""
        return await self._broadcast(transmission, stop=True)

    async def _broadcast(self, t: Transmission, *, stop: bool) -> SendReport:
        ebmid = str(t.extra.get("cancels") or t.ebmid) if stop else t.ebmid
        if stop:
            await self._end(ebmid)  # whatever happens next, the start goes off the air
        if self.down:
            return _all(t.targets, Outcome.FAILED, f"FM output of {self.config.site} is down")
        await self._end(ebmid)
        await self._end(f"stop:{ebmid}")
        try:
            refused, codes = self._addressing(t)
            if refused and len(refused) == len(set(t.targets)):
                return SendReport(tuple(refused[target] for target in t.targets))
            build = self._builder(t, ebmid, codes, stop=stop)
            rendering = Rendering(build, self.config.profile, self._signer)
            lines = rendering.lines(self._now())
        except ValueError as exc:  # codes, fields, the signer (SignatureError is one)
            log.error("FM %s: alert %s cannot be encoded: %s", self.ebrid, t.alert_id, exc)
            return _all(t.targets, Outcome.FAILED, f"cannot encode or sign: {exc}")
        try:
            await self._write(lines)
        except OSError as exc:
            log.error("FM %s: output %s failed: %s", self.ebrid, self.config.output, exc)
            return _all(t.targets, Outcome.FAILED, f"output {self.config.output}: {exc}")
        key = f"stop:{ebmid}" if stop else ebmid
        self.repetitions[key] = 1
        self._announce(t, key, len(lines))
        limit = self.config.stop_repetitions if stop else None
        self._carousels[key] = asyncio.create_task(
            self._carousel(key, rendering, limit, self._seconds_left(t, stop)),
            name=f"fm-carousel-{key}",
        )
        return SendReport(
            tuple(
                refused.get(target) or TargetOutcome(target, Outcome.DELIVERED)
                for target in t.targets
            )
        )

    def _addressing(
        self, t: Transmission
    ) -> tuple[dict[str, TargetOutcome], tuple[ResourceCode, ...]]:
        """Targets this transmitter cannot serve, and the codes the packets carry."""
        covered = self.config.regions
        refused: dict[str, TargetOutcome] = {}
        ebrids: list[ResourceCode] = []
        region_targets: list[RegionCode] = []
        for target in t.targets:
            try:
                if len(target) == 23:
                    code = ResourceCode(target)
                    inside = not covered or any(own.contains(code.region) for own in covered)
                    ebrids.append(code)
                else:
                    area = RegionCode.parse(target)
                    inside = not covered or any(
                        own.contains(area) or area.contains(own) for own in covered
                    )
                    region_targets.append(area)
            except CodeError as exc:
                refused[target] = TargetOutcome(target, Outcome.FAILED, exc.message)
                continue
            if not inside:
                refused[target] = TargetOutcome(
                    target, Outcome.UNREACHABLE, f"outside the coverage of {self.config.site}"
                )
        named = [c for c in ebrids if c.value not in refused]
        if named and not region_targets and len(named) <= self.config.max_codes:
            return refused, tuple(dict.fromkeys(named))
        areas = [RegionCode.parse(r) for r in t.regions] or region_targets or list(covered)
        return refused, tuple(dict.fromkeys(region_code(a) for a in areas))

    def _builder(
        self, t: Transmission, ebmid: str, codes: tuple[ResourceCode, ...], *, stop: bool
    ) -> Callable[[int], list[Packet]]:
        event_type = t.event_type
        if not (len(event_type) == 5 and event_type.isascii() and event_type.isalnum()):
            # Playing matters more than the label: receivers do not need it to sound the alarm.
            log.warning(
                "FM %s: event type %r is not 5 characters; sent as %s",
                self.ebrid,
                event_type,
                NO_EVENT_TYPE,
            )
            event_type = NO_EVENT_TYPE
        audio = self.config.audio_frequency_khz
        command = Emergency(
            action=Action.STOP if stop else Action.START,
            ebmid=ebmid,
            event_type=event_type,
            level=max(0, min(int(t.severity), 15)),
            frequency_khz=audio or self.config.frequency_khz,
            frequency_switch=1 if audio and audio != self.config.frequency_khz else 0,
            drill=(t.drill or t.msg_type in (3, 4, 5)) and not stop,
            alert_id=t.alert_id,
            start_unix=int(t.start.timestamp()) if t.start and not stop else 0,
            end_unix=int(t.end.timestamp()) if t.end and not stop else 0,
        )
        fixed = [Packet(codes, command)]
        if not stop:
            budget = body_budget(len(codes))
            fixed += [
                Packet(codes, text)
                for language, title, body in t.texts
                for text in split_text(ebmid, language, title, body, budget)
            ]
        for packet in fixed:
            packet.payload()  # refuse what cannot be encoded now, not in the carousel
        if stop or not self.config.time_sync:
            return lambda signed_at: fixed
        return lambda signed_at: [Packet((), TimeSync(signed_at)), *fixed]

    def _seconds_left(self, t: Transmission, stop: bool) -> float:
        limit = self.config.max_carousel_seconds
        if stop:  # one period of slack: the last stop must not lose a race with the deadline
            return self.config.repeat_seconds * (self.config.stop_repetitions + 1)
        if t.end is not None:
            limit = min(limit, (t.end - self._context.clock()).total_seconds())
        return max(limit, 0.0)

    def _announce(self, t: Transmission, key: str, groups: int) -> None:
        log.info(
            "FM %s (%s, %d kHz): %s alert %s, %d groups a repetition every %.1f s",
            self.ebrid,
            self.config.site,
            self.config.frequency_khz,
            key,
            t.alert_id,
            groups,
            self.config.repeat_seconds,
        )
        air = groups / AIR_GROUPS_PER_SECOND
        if air > self.config.repeat_seconds and not self._warned_air:
            self._warned_air = True  # once: it is a property of the configuration
            log.warning(
                "FM %s: one repetition needs %.1f s of the whole RDS channel, more than "
                "repeat_seconds=%.1f: a real encoder's queue would grow without bound",
                self.ebrid,
                air,
                self.config.repeat_seconds,
            )

    async def _carousel(
        self, key: str, rendering: Rendering, limit: int | None, seconds: float
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        period = self.config.repeat_seconds
        bound = limit if limit is not None else math.ceil(seconds / period) + 1
        for _ in range(1, bound):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.sleep(min(period, remaining))
            if self.down:
                continue
            try:
                await self._write(rendering.lines(self._now()))
            except (OSError, ValueError) as exc:  # the output, or the signer
                log.warning("FM %s: carousel %s: repetition lost: %s", self.ebrid, key, exc)
                continue
            self.repetitions[key] = self.repetitions.get(key, 0) + 1
        log.info(
            "FM %s: carousel %s ended after %d repetitions",
            self.ebrid,
            key,
            self.repetitions.get(key, 0),
        )

    async def _end(self, key: str) -> None:
        task = self._carousels.pop(key, None)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _write(self, lines: Sequence[str]) -> None:
        async with self._lock:  # whole repetitions: packets must never interleave on the air
            step = self._output.batch
            for start in range(0, len(lines), step):
                self._output.write(lines[start : start + step])
                if start + step < len(lines):
                    await asyncio.sleep(0)

    def _now(self) -> int:
        return int(self._context.clock().timestamp())
