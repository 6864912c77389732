"""Table 0xFD, the emergency broadcast index (EBIT): which EBMs are on, for whom, and where
their programme is. Section body (field layout unconfirmed, docs/ts-signalling.md):

    EBM_count                       8
    per EBM:
      EBM_id                      144   0xF pad + 35 BCD digits
      original_network_id          16
      EBM_start_time               40   MJD + BCD hhmmss, UTC; all ones: immediately
      EBM_end_time                 40   all ones: open end
      EBM_type                     40   5 ASCII characters (event type, e.g. 11B03)
      EBM_class                     4   1 system drill, 2 simulated drill, 3 real drill, 4 emergency
      EBM_level                     4   severity 0 unknown, 1 red .. 4 blue
      reserved 4, resource_loop_length 12, then 12-byte BCD resource codes
      details_transport_stream_id  16
      details_program_number       16
      reserved 3, details_PCR_PID  13
      reserved 4, descriptors_length 12, then delivery descriptors
      reserved 4, stream_loop_length 12, then per stream:
        stream_type 8, reserved 3, elementary_PID 13

An EBM whose resource list does not fit one section is repeated, each copy with a slice of
the list; ``merge_entries`` puts the copies back together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import IntEnum

from protocols.ts.descriptors import Descriptor, decode_descriptors
from protocols.ts.errors import BadField, TooLong
from protocols.ts.fields import (
    EBM_ID_BYTES,
    EBM_ID_DIGITS,
    RESOURCE_CODE_BYTES,
    RESOURCE_CODE_DIGITS,
    TIME_BYTES,
    Reader,
    decode_ascii,
    decode_digits,
    decode_time,
    encode_ascii,
    encode_digits,
    encode_time,
    loop_length,
    read_loop,
)
from protocols.ts.section import MAX_BODY_BYTES, Section, SignFn, build_table, split_items

TABLE_ID = 0xFD
_MAX_PID = 0x1FFF
_ROOM = MAX_BODY_BYTES - 1


class EbmClass(IntEnum):
    SYSTEM_DRILL = 1
    SIMULATED_DRILL = 2
    REAL_DRILL = 3
    EMERGENCY = 4


@dataclass(frozen=True)
class ElementaryStream:
    stream_type: int
    pid: int

    def __post_init__(self) -> None:
        if not 0 <= self.stream_type <= 0xFF or not 0 <= self.pid <= _MAX_PID:
            raise BadField(f"stream type {self.stream_type} / PID {self.pid} out of range")


@dataclass(frozen=True)
class DetailsChannel:
    transport_stream_id: int = 0
    program_number: int = 0
    pcr_pid: int = _MAX_PID
    delivery: tuple[Descriptor, ...] = ()
    streams: tuple[ElementaryStream, ...] = ()

    def to_bytes(self) -> bytes:
        for name, value, top in (
            ("transport_stream_id", self.transport_stream_id, 0xFFFF),
            ("program_number", self.program_number, 0xFFFF),
            ("PCR_PID", self.pcr_pid, _MAX_PID),
        ):
            if not 0 <= value <= top:
                raise BadField(f"details channel {name} must be 0..{top}, got {value}")
        descriptors = b"".join(d.to_bytes() for d in self.delivery)
        streams = b"".join(
            bytes([s.stream_type]) + (0xE000 | s.pid).to_bytes(2, "big") for s in self.streams
        )
        return (
            self.transport_stream_id.to_bytes(2, "big")
            + self.program_number.to_bytes(2, "big")
            + (0xE000 | self.pcr_pid).to_bytes(2, "big")
            + loop_length(len(descriptors), "descriptor loop")
            + descriptors
            + loop_length(len(streams), "stream loop")
            + streams
        )

    @classmethod
    def read(cls, r: Reader) -> DetailsChannel:
        tsid = r.uint(2, "details_transport_stream_id")
        program = r.uint(2, "details_program_number")
        pcr = r.uint(2, "details_PCR_PID") & _MAX_PID
        delivery = decode_descriptors(read_loop(r, "descriptors").take_all(), "descriptors")
        loop = read_loop(r, "stream_loop")
        streams = []
        while loop.remaining:
            kind = loop.uint(1, "stream_type")
            streams.append(ElementaryStream(kind, loop.uint(2, "elementary_PID") & _MAX_PID))
        return cls(tsid, program, pcr, delivery, tuple(streams))


@dataclass(frozen=True)
class EbmEntry:
    ebm_id: str
    ebm_type: str
    ebm_class: int
    ebm_level: int
    resource_codes: tuple[str, ...]
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    details: DetailsChannel = field(default_factory=DetailsChannel)
    original_network_id: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.ebm_class <= 15 or not 0 <= self.ebm_level <= 15:
            raise BadField(f"EBM_class {self.ebm_class} / EBM_level {self.ebm_level}: 4 bits")
        if not 0 <= self.original_network_id <= 0xFFFF:
            raise BadField(f"original_network_id {self.original_network_id} needs 16 bits")

    def ended(self, at: dt.datetime) -> bool:
        return self.end is not None and self.end <= at

    def to_bytes(self) -> bytes:
        codes = b"".join(
            encode_digits(c, RESOURCE_CODE_DIGITS, "resource code") for c in self.resource_codes
        )
        return (
            encode_digits(self.ebm_id, EBM_ID_DIGITS, "EBM_id")
            + self.original_network_id.to_bytes(2, "big")
            + encode_time(self.start)
            + encode_time(self.end)
            + encode_ascii(self.ebm_type, 5, "EBM_type")
            + bytes([(self.ebm_class << 4) | self.ebm_level])
            + loop_length(len(codes), "resource code loop")
            + codes
            + self.details.to_bytes()
        )

    @classmethod
    def read(cls, r: Reader) -> EbmEntry:
        ebm_id = decode_digits(r.take(EBM_ID_BYTES, "EBM_id"), EBM_ID_DIGITS, "EBM_id")
        network = r.uint(2, "original_network_id")
        start = decode_time(r.take(TIME_BYTES, "EBM_start_time"), "EBM_start_time")
        end = decode_time(r.take(TIME_BYTES, "EBM_end_time"), "EBM_end_time")
        ebm_type = decode_ascii(r.take(5, "EBM_type"), "EBM_type")
        class_level = r.uint(1, "EBM_class/EBM_level")
        loop = read_loop(r, "resource_loop")
        if loop.remaining % RESOURCE_CODE_BYTES:
            raise BadField(f"resource loop of {loop.remaining} bytes is not whole 12-byte codes")
        codes = tuple(
            decode_digits(
                loop.take(RESOURCE_CODE_BYTES, "resource code"),
                RESOURCE_CODE_DIGITS,
                "resource code",
            )
            for _ in range(loop.remaining // RESOURCE_CODE_BYTES)
        )
        details = DetailsChannel.read(r)
        return cls(
            ebm_id,
            ebm_type,
            class_level >> 4,
            class_level & 0x0F,
            codes,
            start,
            end,
            details,
            network,
        )


@dataclass(frozen=True)
class Ebit:
    entries: tuple[EbmEntry, ...] = ()


def _slices(entry: EbmEntry) -> list[bytes]:
    """The entry, or copies with slices of its resource list when it would not fit a section."""
    fixed = len(replace(entry, resource_codes=()).to_bytes())
    per = (_ROOM - fixed) // RESOURCE_CODE_BYTES
    if per < 1:
        raise TooLong(f"EBM {entry.ebm_id}: its fixed fields alone exceed one section")
    codes = entry.resource_codes
    if len(codes) <= per:
        return [entry.to_bytes()]
    return [
        replace(entry, resource_codes=codes[i : i + per]).to_bytes()
        for i in range(0, len(codes), per)
    ]


def encode_ebit(ebit: Ebit, *, version: int, sign: SignFn, extension: int = 0) -> list[bytes]:
    items = [chunk for entry in ebit.entries for chunk in _slices(entry)]
    groups = split_items(items, _ROOM, "EBIT entry")
    bodies = [bytes([len(g)]) + b"".join(g) for g in groups]
    return build_table(TABLE_ID, extension, version, bodies, sign)


def decode_ebit(section: Section) -> Ebit:
    if section.header.table_id != TABLE_ID:
        raise BadField(f"table 0x{section.header.table_id:02X} is not an EBIT")
    r = Reader(section.body, "EBIT")
    entries = tuple(EbmEntry.read(r) for _ in range(r.uint(1, "EBM_count")))
    r.expect_end()
    return Ebit(entries)


def merge_entries(entries: list[EbmEntry]) -> tuple[EbmEntry, ...]:
    """Copies of one EBM (split across sections) as one entry with the union of their codes."""
    merged: dict[str, EbmEntry] = {}
    for entry in entries:
        known = merged.get(entry.ebm_id)
        if known is None:
            merged[entry.ebm_id] = entry
            continue
        extra = tuple(c for c in entry.resource_codes if c not in known.resource_codes)
        merged[entry.ebm_id] = replace(known, resource_codes=known.resource_codes + extra)
    return tuple(merged.values())
