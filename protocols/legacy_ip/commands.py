"""Bodies the gateway sends: 0x04 start/stop, 0x08 query, 0x09 clock, 0x12 general reply.

Field widths the digest leaves open are our choice, marked (unconfirmed) in
docs/legacy-loudspeakers.md, which draws every layout byte by byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from protocols.legacy_ip.errors import BadField
from protocols.legacy_ip.fields import (
    EBMID_DIGITS,
    EBRID_DIGITS,
    PHYSICAL_BYTES,
    TEXT_ENCODING,
    Cursor,
    ascii_field,
    bcd,
    enum_field,
    text_field,
    uint,
)
from protocols.legacy_ip.frame import Command

VOLUME_DEFAULT = 0xFF  # "play at the terminal's own volume"
AUX_NONE = 0
AUX_STREAM = 61  # GY/T 385 AuxiliaryType 61: audio/video stream (a URL)


class BroadcastType(IntEnum):
    EMERGENCY = 0x04
    DAILY = 0x05


class Addressing(IntEnum):
    RESOURCE_CODE = 1
    PHYSICAL = 2


class QueryType(IntEnum):
    WORK_STATE = 1


@dataclass(frozen=True, slots=True)
class Auxiliary:
    kind: int
    data: bytes


@dataclass(frozen=True, slots=True)
class StartStop:
    """0x04: start (``on``) or stop one broadcast on the addressed terminals."""

    COMMAND: ClassVar[Command] = Command.START_STOP

    ebmid: str
    on: bool
    broadcast_type: BroadcastType
    event_type: str
    level: int
    start: int
    end: int
    volume: int
    addressing: Addressing
    addresses: tuple[str, ...]
    language: str = "zho"
    agency: str = ""
    auxiliary: Auxiliary | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.level <= 4:
            raise BadField(f"level must be 0-4 (GY/T 385 Severity), got {self.level}")
        if not (0 <= self.volume <= 100 or self.volume == VOLUME_DEFAULT):
            raise BadField(f"volume must be 0-100 or 0xFF (terminal default), got {self.volume}")

    def _address_bytes(self) -> bytes:
        if self.addressing is Addressing.RESOURCE_CODE:
            return b"".join(bcd(a, EBRID_DIGITS, "addressed resource code") for a in self.addresses)
        try:
            raw = [bytes.fromhex(a) for a in self.addresses]
        except ValueError as exc:
            raise BadField(f"physical addresses must be hex: {exc}") from exc
        if any(len(r) != PHYSICAL_BYTES for r in raw):
            raise BadField(f"physical addresses are {PHYSICAL_BYTES} bytes each")
        return b"".join(raw)

    def to_bytes(self, encoding: str = TEXT_ENCODING) -> bytes:
        aux = self.auxiliary or Auxiliary(AUX_NONE, b"")
        if aux.kind == AUX_NONE and aux.data:
            raise BadField("auxiliary data needs a non-zero auxiliary type")
        return b"".join(
            (
                bcd(self.ebmid, EBMID_DIGITS, "EBMID"),
                bytes([1 if self.on else 0, self.broadcast_type]),
                ascii_field(self.event_type, 5, "event type"),
                bytes([self.level]),
                uint(self.start, 4, "start time"),
                uint(self.end, 4, "end time"),
                bytes([self.volume, self.addressing]),
                uint(len(self.addresses), 2, "address count"),
                self._address_bytes(),
                ascii_field(self.language, 3, "language"),
                text_field(self.agency, "agency name", encoding),
                uint(aux.kind, 1, "auxiliary type"),
                uint(len(aux.data), 2, "auxiliary length"),
                aux.data,
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes, encoding: str = TEXT_ENCODING) -> StartStop:
        c = Cursor(data, "0x04 start/stop")
        ebmid = c.bcd(EBMID_DIGITS, "EBMID")
        on_off = c.uint(1, "on/off")
        if on_off not in (0, 1):
            raise BadField(f"0x04 on/off must be 0 or 1, got {on_off}")
        broadcast_type = enum_field(BroadcastType, c.uint(1, "broadcast type"), "broadcast type")
        event_type = c.ascii(5, "event type")
        level, start, end = c.uint(1, "level"), c.uint(4, "start"), c.uint(4, "end")
        volume = c.uint(1, "volume")
        addressing = enum_field(Addressing, c.uint(1, "addressing type"), "addressing type")
        count = c.uint(2, "address count")
        if addressing is Addressing.RESOURCE_CODE:
            addresses = tuple(c.bcd(EBRID_DIGITS, f"address {i}") for i in range(count))
        else:
            addresses = tuple(c.take(PHYSICAL_BYTES, f"address {i}").hex() for i in range(count))
        language = c.ascii(3, "language")
        agency = c.text("agency name", encoding)
        kind = c.uint(1, "auxiliary type")
        aux_data = c.take(c.uint(2, "auxiliary length"), "auxiliary data")
        c.end()
        if kind == AUX_NONE and aux_data:
            raise BadField("auxiliary data with auxiliary type 0")
        auxiliary = Auxiliary(kind, aux_data) if kind != AUX_NONE else None
        return cls(
            ebmid,
            on_off == 1,
            broadcast_type,
            event_type,
            level,
            start,
            end,
            volume,
            addressing,
            addresses,
            language,
            agency,
            auxiliary,
        )


@dataclass(frozen=True, slots=True)
class Query:
    """0x08: ask one terminal for its state."""

    COMMAND: ClassVar[Command] = Command.QUERY

    target: str
    query_type: QueryType = QueryType.WORK_STATE

    def to_bytes(self) -> bytes:
        return bcd(self.target, EBRID_DIGITS, "queried resource code") + bytes([self.query_type])

    @classmethod
    def from_bytes(cls, data: bytes) -> Query:
        c = Cursor(data, "0x08 query")
        target = c.bcd(EBRID_DIGITS, "resource code")
        query_type = enum_field(QueryType, c.uint(1, "query type"), "query type")
        c.end()
        return cls(target, query_type)


@dataclass(frozen=True, slots=True)
class Clock:
    """0x09: the UTC time (UNIX seconds) the terminal should set."""

    COMMAND: ClassVar[Command] = Command.CLOCK

    time: int

    def to_bytes(self) -> bytes:
        return uint(self.time, 4, "clock time")

    @classmethod
    def from_bytes(cls, data: bytes) -> Clock:
        c = Cursor(data, "0x09 clock")
        time = c.uint(4, "time")
        c.end()
        return cls(time)


@dataclass(frozen=True, slots=True)
class GeneralReply:
    """0x12: the protocol type answered and a result (0 = accepted)."""

    COMMAND: ClassVar[Command] = Command.GENERAL_REPLY

    answered: int
    result: int = 0

    def to_bytes(self) -> bytes:
        return uint(self.answered, 1, "answered protocol type") + uint(self.result, 1, "result")

    @classmethod
    def from_bytes(cls, data: bytes) -> GeneralReply:
        c = Cursor(data, "0x12 general reply")
        answered, result = c.uint(1, "answered protocol type"), c.uint(1, "result")
        c.end()
        return cls(answered, result)
