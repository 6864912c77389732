"""What the cable, DTMB and DTH adapters share: configuration, the output, and the carousel.

One adapter is one head-end or transmitter output on one PID. Every change (a send, an
update, a cancel, an expiry) rebuilds the whole burst - certificate, the content table of
each EBM on air, then the index last, so a receiver has the content before the index points
at it - signs it once at ``context.clock()`` and writes it at once; a carousel task then
re-emits it every ``repeat_seconds``. The signed time only moves forwards (one second past
the previous burst when the clock has not), so receivers can refuse older sections as
replays. Bursts are re-signed every ``resign_seconds`` so receivers can enforce a freshness
window on a broadcast that lasts hours. Cancel and expiry: docs/ts-signalling.md section 6.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar, Protocol
from urllib.parse import urlsplit

from adapters.base import AdapterContext, Outcome, SendReport, TargetOutcome, Transmission
from protocols.codes import RegionCode, ResourceCode
from protocols.errors import CodeError, ProtocolError
from protocols.ts import (
    AUX_ALERT_ID,
    AUX_CANCELLED_BY,
    Auxiliary,
    CertificateItem,
    Certificates,
    Content,
    Descriptor,
    DetailsChannel,
    Ebit,
    EbmClass,
    EbmEntry,
    ElementaryStream,
    LanguageText,
    Packetiser,
    encode_certificates,
    encode_content,
    encode_ebit,
)
from protocols.ts.addressing import region_resource_code
from signing.block import sign_payload
from signing.signer import Signer

log = logging.getLogger("ebc.adapters.ts")

PACKETS_PER_DATAGRAM = 7  # 1316 bytes: the usual TS-over-UDP payload
#: MsgType -> EBM_class (unconfirmed): a terminal drill is the one that sounds ("real drill").
EBM_CLASS = {
    1: EbmClass.EMERGENCY,
    2: EbmClass.EMERGENCY,
    3: EbmClass.SYSTEM_DRILL,
    4: EbmClass.SIMULATED_DRILL,
    5: EbmClass.REAL_DRILL,
}
_LANGUAGES = {"zh": "zho", "en": "eng", "ug": "uig", "bo": "bod", "mn": "mon", "ii": "iii"}


# -- output -------------------------------------------------------------------------------


class Output(Protocol):
    def write(self, packets: list[bytes]) -> None: ...

    def close(self) -> None: ...


class UdpOutput:
    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def write(self, packets: list[bytes]) -> None:
        for i in range(0, len(packets), PACKETS_PER_DATAGRAM):
            self._sock.sendto(b"".join(packets[i : i + PACKETS_PER_DATAGRAM]), self._target)

    def close(self) -> None:
        self._sock.close()


class FileOutput:
    def __init__(self, path: Path) -> None:
        self._file: IO[bytes] = path.open("ab")

    def write(self, packets: list[bytes]) -> None:
        self._file.write(b"".join(packets))
        self._file.flush()

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True)
class OutputTarget:
    kind: str  # "udp" or "file"
    host: str = ""
    port: int = 0
    path: Path | None = None


def parse_output(url: str) -> OutputTarget:
    """ValueError for anything but udp://HOST:PORT and file:PATH."""
    if url.startswith("file:"):
        path = url.removeprefix("file://") if url.startswith("file://") else url[5:]
        if not path:
            raise ValueError("file: output needs a path")
        return OutputTarget("file", path=Path(path))
    parts = urlsplit(url)
    if parts.scheme == "udp" and parts.hostname and parts.port:
        return OutputTarget("udp", parts.hostname, parts.port)
    raise ValueError(f"output must be udp://HOST:PORT or file:PATH, got {url!r}")


def open_output(url: str) -> Output:
    target = parse_output(url)
    if target.path is not None:
        return FileOutput(target.path)
    return UdpOutput(target.host, target.port)


# -- configuration ------------------------------------------------------------------------


def _number(config: dict[str, Any], key: str, default: float, *, positive: bool = True) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{key} must be positive, got {value!r}")
    return float(value)


def _integer(config: dict[str, Any], key: str, default: int, top: int) -> int:
    value = config.get(key, default)
    if isinstance(value, str):
        value = int(value, 0)  # "0x21" as well as "33"
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise ValueError(f"{key} must be an integer 0..{top}, got {value!r}")
    return value


def frequency_hz(config: dict[str, Any]) -> int:
    if "frequency_hz" in config:
        return _integer(config, "frequency_hz", 0, 100 * 10**9)
    return round(_number(config, "frequency_mhz", 0.0) * 1_000_000)


@dataclass(frozen=True)
class TsConfig:
    site: str
    output: str
    regions: tuple[str, ...]
    pid: int
    repeat_seconds: float
    max_duration: float
    linger_seconds: float
    resign_seconds: float
    original_network_id: int
    index_extension: int
    agency: str
    certificate: bool
    details: DetailsChannel

    @classmethod
    def parse(cls, config: dict[str, Any], delivery: Descriptor) -> TsConfig:
        delivery.to_bytes()  # a bad frequency or mode fails here, not at the first alert
        output = str(config.get("output", ""))
        parse_output(output)
        regions = tuple(RegionCode.parse(str(r)).value for r in config.get("regions", ()))
        streams = tuple(
            ElementaryStream(int(kind), int(pid)) for kind, pid in config.get("streams", ())
        )
        site = str(config.get("site", ""))
        return cls(
            site=site,
            output=output,
            regions=regions,
            pid=_integer(config, "pid", 0x21, 0x1FFE),
            repeat_seconds=_number(config, "repeat_seconds", 1.0),
            max_duration=_number(config, "max_duration", 3600.0),
            linger_seconds=_number(config, "linger_seconds", 30.0),
            resign_seconds=_number(config, "resign_seconds", 60.0),
            original_network_id=_integer(config, "original_network_id", 1, 0xFFFF),
            index_extension=_integer(config, "index_extension", 0, 0xFFFF),
            agency=str(config.get("agency", site)),
            certificate=bool(config.get("certificate", True)),
            details=DetailsChannel(
                transport_stream_id=_integer(config, "transport_stream_id", 1, 0xFFFF),
                program_number=_integer(config, "program_number", 1, 0xFFFF),
                pcr_pid=_integer(config, "pcr_pid", 0x1FFF, 0x1FFF),
                delivery=(delivery,),
                streams=streams,
            ),
        )


# -- from a transmission to tables ----------------------------------------------------------


def resource_codes(
    transmission: Transmission, resource_type: str
) -> tuple[list[str], list[TargetOutcome]]:
    """Targets as EBIT resource codes: an EBRID as itself, a region code in its resource
    form; anything else fails that target. No targets: the task's regions."""
    codes: list[str] = []
    failed: list[TargetOutcome] = []
    for target in transmission.targets or transmission.regions:
        try:
            code = (
                ResourceCode(target).value
                if len(target) == 23
                else region_resource_code(RegionCode.parse(target), resource_type)
            )
        except CodeError as exc:
            failed.append(TargetOutcome(target, Outcome.FAILED, exc.message))
            continue
        if code not in codes:
            codes.append(code)
    return codes, failed


def language_code(tag: str) -> str:
    text = tag.strip().lower()
    if len(text) == 3 and text.isascii() and text.isalpha():
        return text
    return _LANGUAGES.get(text[:2], "und")


def event_type(transmission: Transmission) -> str:
    code = transmission.event_type
    if len(code) == 5 and code.isascii() and code.isprintable():
        return code
    log.warning(
        "alert %s: event type %r is not 5 ASCII characters; sending 00000",
        transmission.alert_id,
        code,
    )
    return "00000"


@dataclass
class OnAir:
    """One EBM this output carries: its index entry, content, and when the carousel drops it."""

    alert_id: str
    slot: int
    version: int
    entry: EbmEntry
    content: Content
    until: dt.datetime


# -- the adapter --------------------------------------------------------------------------


class TsAdapter:
    """Base of the three TS bearers; a subclass names its bearer, its resource type (used
    for region addressing) and how its configuration becomes a delivery descriptor."""

    bearer: ClassVar[str] = ""
    resource_type: ClassVar[str] = ""

    def __init__(self, ebrid: str, config: dict[str, Any], context: AdapterContext) -> None:
        if context.signer is None:
            raise ValueError(f"the {self.bearer} adapter needs the platform's signer")
        self.ebrid = ebrid
        self.config = TsConfig.parse(config, self.delivery(config))
        #: Simulates a lost output: nothing is written while set.
        self.down = bool(config.get("down", False))
        self.bursts = 0
        self._signer: Signer = context.signer
        self._clock: Callable[[], dt.datetime] = context.clock
        self._packetiser = Packetiser(self.config.pid)
        self._output: Output | None = None
        self._on_air: dict[str, OnAir] = {}
        self._index_version = 31  # the first index goes out as version 0
        self._next_slot = 0
        self._signed_at = 0
        self._sections: list[bytes] = []
        self._quiet_until: dt.datetime | None = None
        self._lock = asyncio.Lock()
        self._carousel: asyncio.Task[None] | None = None
        self._failing = False

    @classmethod
    def factory(cls, ebrid: str, config: dict[str, Any], context: AdapterContext) -> TsAdapter:
        return cls(ebrid, config, context)

    @classmethod
    def delivery(cls, config: dict[str, Any]) -> Descriptor:
        raise NotImplementedError

    @classmethod
    def example_delivery(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def example_config(cls, tmp_path: Path) -> dict[str, Any]:
        return {
            "site": f"example {cls.bearer} head-end",
            "output": f"file:{tmp_path / f'{cls.bearer}.ts'}",
            "regions": ["341523000000"],
            "repeat_seconds": 0.2,
            **cls.example_delivery(),
        }

    @property
    def on_air(self) -> dict[str, OnAir]:
        """EBM id -> what this output carries for it now (a copy)."""
        return dict(self._on_air)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        task, self._carousel = self._carousel, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._output is not None:
            with contextlib.suppress(OSError):
                self._output.close()
            self._output = None

    # -- send and cancel ---------------------------------------------------------------

    async def send(self, transmission: Transmission) -> SendReport:
        codes, failed = resource_codes(transmission, self.resource_type)
        now = self._clock()
        if not codes:
            return SendReport(tuple(failed))
        start = transmission.start or now
        end = transmission.end
        entry = EbmEntry(
            ebm_id=transmission.ebmid,
            ebm_type=event_type(transmission),
            ebm_class=int(EBM_CLASS.get(transmission.msg_type, EbmClass.EMERGENCY)),
            ebm_level=min(max(transmission.severity, 0), 15),
            resource_codes=tuple(codes),
            start=start,
            end=end,
            details=self.config.details,
            original_network_id=self.config.original_network_id,
        )
        texts = tuple(
            LanguageText(language_code(lang), title, body, self.config.agency)
            for lang, title, body in transmission.texts
        )
        content = Content(
            transmission.ebmid, texts, (Auxiliary(AUX_ALERT_ID, transmission.alert_id.encode()),)
        )
        until = end or start + dt.timedelta(seconds=self.config.max_duration)
        return await self._change(transmission, failed, entry, content, until, now)

    async def cancel(self, transmission: Transmission) -> SendReport:
        target = str(transmission.extra.get("cancels") or transmission.ebmid)
        codes, failed = resource_codes(transmission, self.resource_type)
        now = self._clock()
        reference = Auxiliary(AUX_CANCELLED_BY, transmission.alert_id.encode())
        known = self._on_air.get(target)
        if known is not None:
            entry = dataclasses.replace(known.entry, end=now)
            kept = tuple(a for a in known.content.auxiliary if a.kind != AUX_CANCELLED_BY)
            content = dataclasses.replace(known.content, auxiliary=(*kept, reference))
        else:
            # Not on air here (expired, or sent before a restart): end it anyway, so terminals
            # still playing it stop.
            entry = EbmEntry(
                ebm_id=target,
                ebm_type=event_type(transmission),
                ebm_class=int(EbmClass.EMERGENCY),
                ebm_level=min(max(transmission.severity, 0), 15),
                resource_codes=tuple(codes),
                start=now,
                end=now,
                details=self.config.details,
                original_network_id=self.config.original_network_id,
            )
            content = Content(target, (), (reference,))
        until = now + dt.timedelta(seconds=self.config.linger_seconds)
        return await self._change(transmission, failed, entry, content, until, now)

    async def _change(
        self,
        transmission: Transmission,
        failed: list[TargetOutcome],
        entry: EbmEntry,
        content: Content,
        until: dt.datetime,
        now: dt.datetime,
    ) -> SendReport:
        reached = [
            t
            for t in transmission.targets or transmission.regions
            if t not in {f.target for f in failed}
        ]
        async with self._lock:
            saved = self._save()
            known = self._on_air.get(entry.ebm_id)
            slot = known.slot if known else self._take_slot()
            version = (known.version + 1) % 32 if known else 0
            self._on_air[entry.ebm_id] = OnAir(
                known.alert_id if known else transmission.alert_id,
                slot,
                version,
                entry,
                content,
                until,
            )
            self._quiet_until = None
            try:
                self._rebuild(now, index_changed=True)
                self._emit()
            except (OSError, ProtocolError) as exc:
                self._restore(saved)
                detail = f"{self.bearer} output {self.config.output}: {exc}"
                log.warning("alert %s: %s", transmission.alert_id, detail)
                outcomes = [TargetOutcome(t, Outcome.FAILED, detail) for t in reached]
                return SendReport(tuple(outcomes + failed))
            self._ensure_carousel()
        return SendReport(tuple([TargetOutcome(t, Outcome.DELIVERED) for t in reached] + failed))

    # -- state helpers -----------------------------------------------------------------

    def _take_slot(self) -> int:
        used = {a.slot for a in self._on_air.values()}
        for _ in range(0x10000):  # bounded: at most 65536 slots exist
            slot, self._next_slot = self._next_slot, (self._next_slot + 1) % 0x10000
            if slot not in used:
                return slot
        raise ProtocolError("all 65536 content table slots are in use", code="too-many-ebms")

    def _save(self) -> tuple[Any, ...]:
        return (
            dict(self._on_air),
            self._index_version,
            self._signed_at,
            list(self._sections),
            self._quiet_until,
            self._packetiser.continuity,
            self._next_slot,
        )

    def _restore(self, saved: tuple[Any, ...]) -> None:
        (
            self._on_air,
            self._index_version,
            self._signed_at,
            self._sections,
            self._quiet_until,
            self._packetiser.continuity,
            self._next_slot,
        ) = saved

    def _sign(self, signed_at: int) -> Callable[[bytes], bytes]:
        def sign(payload: bytes) -> bytes:
            return sign_payload(payload, self._signer, signed_at).to_bytes()

        return sign

    def _rebuild(self, now: dt.datetime, *, index_changed: bool) -> None:
        if index_changed:
            self._index_version = (self._index_version + 1) % 32
        self._signed_at = max(int(now.timestamp()), self._signed_at + 1)
        sign = self._sign(self._signed_at)
        sections: list[bytes] = []
        if self.config.certificate:
            item = CertificateItem(self._signer.cert_sn.value, self._signer.public_key.point)
            sections += encode_certificates(Certificates((item,)), version=0, sign=sign)
        for air in self._on_air.values():
            sections += encode_content(
                air.content, version=air.version, sign=sign, extension=air.slot
            )
        index = Ebit(tuple(a.entry for a in self._on_air.values()))
        sections += encode_ebit(
            index, version=self._index_version, sign=sign, extension=self.config.index_extension
        )
        self._sections = sections

    def _emit(self) -> None:
        if self.down:
            raise OSError("output is down")
        packets = self._packetiser.packetise(self._sections)
        if self._output is None:
            self._output = open_output(self.config.output)
        self._output.write(packets)
        self.bursts += 1

    # -- the carousel ------------------------------------------------------------------

    def _ensure_carousel(self) -> None:
        if self._carousel is None or self._carousel.done():
            self._carousel = asyncio.create_task(self._run(), name=f"ebc-{self.bearer}-carousel")

    async def _run(self) -> None:
        repeating = True
        while repeating:  # bounded: every EBM leaves at its end, or max_duration after start
            await asyncio.sleep(self.config.repeat_seconds)
            repeating = await self._repeat()

    async def _repeat(self) -> bool:
        """One repetition after expiring what is due; False when there is nothing left."""
        async with self._lock:
            now = self._clock()
            due = [key for key, air in self._on_air.items() if air.until <= now]
            for key in due:
                del self._on_air[key]
            if due and not self._on_air:
                # An empty index, repeated for a while, tells receivers nothing is on any more.
                self._quiet_until = now + dt.timedelta(seconds=self.config.linger_seconds)
            if not self._on_air and (self._quiet_until is None or self._quiet_until <= now):
                self._carousel = None  # under the lock: the next send starts a new one
                return False
            stale = now.timestamp() - self._signed_at >= self.config.resign_seconds
            try:
                if due or stale:
                    self._rebuild(now, index_changed=bool(due))
                self._emit()
            except (OSError, ProtocolError) as exc:
                if not self._failing:  # once per outage, not once a second
                    log.warning("%s %s: repetitions not written: %s", self.bearer, self.ebrid, exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("%s %s: repetitions written again", self.bearer, self.ebrid)
                self._failing = False
            return True
