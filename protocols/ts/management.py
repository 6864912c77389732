"""Table 0xFB, terminal management. Section body (layout unconfirmed):

    command_count                    8
    per command:
      command_tag                    8
      reserved 4, address_loop_length 12, then 12-byte BCD resource codes
                                          (none: every terminal listening on this PID)
      command_length                16
      command body, by tag:
        0x01 clock            time 40 (MJD + BCD, UTC)
        0x02 set resource     physical_address_length 8, physical_address, resource_code 96
        0x03 lock frequency   one delivery descriptor (tag, length, body)
        0x04 return path      kind 8 (1 SMS, 2 IPv4, 3 domain), address_length 8,
                              address (ASCII), port 16
        0x05 return period    seconds 32
        0x06 default volume   volume 8 (0-100)
        0x07 status query     query_type 8 (0xFF: everything)

Unknown tags are kept as RawCommand so a newer head-end does not break older decoders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from protocols.ts.descriptors import Descriptor, decode_descriptors
from protocols.ts.errors import BadField
from protocols.ts.fields import (
    RESOURCE_CODE_BYTES,
    RESOURCE_CODE_DIGITS,
    Reader,
    decode_ascii,
    decode_digits,
    decode_time,
    encode_digits,
    encode_time,
    loop_length,
    read_loop,
)
from protocols.ts.section import MAX_BODY_BYTES, Section, SignFn, build_table, split_items

TABLE_ID = 0xFB
RETURN_KINDS = {"sms": 1, "ipv4": 2, "domain": 3}


@dataclass(frozen=True)
class Clock:
    utc: dt.datetime
    tag = 0x01

    def body(self) -> bytes:
        return encode_time(self.utc)


@dataclass(frozen=True)
class SetResourceCode:
    physical_address: bytes
    resource_code: str
    tag = 0x02

    def body(self) -> bytes:
        if not 1 <= len(self.physical_address) <= 0xFF:
            raise BadField("physical address must be 1..255 bytes")
        return (
            bytes([len(self.physical_address)])
            + bytes(self.physical_address)
            + encode_digits(self.resource_code, RESOURCE_CODE_DIGITS, "resource code")
        )


@dataclass(frozen=True)
class LockFrequency:
    delivery: Descriptor
    tag = 0x03

    def body(self) -> bytes:
        return self.delivery.to_bytes()


@dataclass(frozen=True)
class ReturnPath:
    kind: str
    address: str
    port: int = 0
    tag = 0x04

    def body(self) -> bytes:
        if self.kind not in RETURN_KINDS:
            raise BadField(f"return path kind must be one of {sorted(RETURN_KINDS)}")
        address = self.address.encode("ascii", errors="strict") if self.address.isascii() else b""
        if not address or len(address) > 0xFF or not 0 <= self.port <= 0xFFFF:
            raise BadField(f"return path {self.address!r}:{self.port} is not encodable")
        return (
            bytes([RETURN_KINDS[self.kind], len(address)]) + address + self.port.to_bytes(2, "big")
        )


@dataclass(frozen=True)
class ReturnPeriod:
    seconds: int
    tag = 0x05

    def body(self) -> bytes:
        if not 0 <= self.seconds <= 0xFFFFFFFF:
            raise BadField(f"return period {self.seconds} s does not fit 32 bits")
        return self.seconds.to_bytes(4, "big")


@dataclass(frozen=True)
class DefaultVolume:
    volume: int
    tag = 0x06

    def body(self) -> bytes:
        if not 0 <= self.volume <= 100:
            raise BadField(f"volume must be 0-100, got {self.volume}")
        return bytes([self.volume])


@dataclass(frozen=True)
class StatusQuery:
    query_type: int = 0xFF
    tag = 0x07

    def body(self) -> bytes:
        if not 0 <= self.query_type <= 0xFF:
            raise BadField(f"query type {self.query_type} needs 8 bits")
        return bytes([self.query_type])


@dataclass(frozen=True)
class RawCommand:
    tag: int
    data: bytes

    def body(self) -> bytes:
        return bytes(self.data)


Command = (
    Clock
    | SetResourceCode
    | LockFrequency
    | ReturnPath
    | ReturnPeriod
    | DefaultVolume
    | StatusQuery
    | RawCommand
)


@dataclass(frozen=True)
class Addressed:
    command: Command
    targets: tuple[str, ...] = ()  # resource codes; empty: every terminal on the PID


@dataclass(frozen=True)
class Management:
    commands: tuple[Addressed, ...] = ()


def _encode(item: Addressed) -> bytes:
    body = item.command.body()
    codes = b"".join(encode_digits(c, RESOURCE_CODE_DIGITS, "resource code") for c in item.targets)
    if len(body) > 0xFFFF:
        raise BadField(f"command 0x{item.command.tag:02X} body is too long")
    return (
        bytes([item.command.tag])
        + loop_length(len(codes), "address loop")
        + codes
        + len(body).to_bytes(2, "big")
        + body
    )


def _parse(tag: int, data: bytes) -> Command:
    r = Reader(data, f"command 0x{tag:02X}")
    command: Command
    if tag == Clock.tag:
        utc = decode_time(r.take(5, "time"), "clock")
        if utc is None:
            raise BadField("clock command without a time")
        command = Clock(utc)
    elif tag == SetResourceCode.tag:
        address = r.take(r.uint(1, "physical_address_length"), "physical_address")
        code = decode_digits(
            r.take(RESOURCE_CODE_BYTES, "resource_code"), RESOURCE_CODE_DIGITS, "resource code"
        )
        command = SetResourceCode(address, code)
    elif tag == LockFrequency.tag:
        found = decode_descriptors(r.take_all(), "lock frequency")
        if len(found) != 1:
            raise BadField(f"lock frequency needs one delivery descriptor, got {len(found)}")
        command = LockFrequency(found[0])
    elif tag == ReturnPath.tag:
        number = r.uint(1, "kind")
        kind = next((k for k, v in RETURN_KINDS.items() if v == number), None)
        if kind is None:
            raise BadField(f"return path kind {number} is not defined")
        host = decode_ascii(r.take(r.uint(1, "address_length"), "address"), "address")
        command = ReturnPath(kind, host, r.uint(2, "port"))
    elif tag == ReturnPeriod.tag:
        command = ReturnPeriod(r.uint(4, "seconds"))
    elif tag == DefaultVolume.tag:
        command = DefaultVolume(r.uint(1, "volume"))
        command.body()  # range check
    elif tag == StatusQuery.tag:
        command = StatusQuery(r.uint(1, "query_type"))
    else:
        return RawCommand(tag, r.take_all())
    r.expect_end()
    return command


def encode_management(
    table: Management, *, version: int, sign: SignFn, extension: int = 0
) -> list[bytes]:
    groups = split_items([_encode(c) for c in table.commands], MAX_BODY_BYTES - 1, "command")
    return build_table(
        TABLE_ID, extension, version, [bytes([len(g)]) + b"".join(g) for g in groups], sign
    )


def decode_management(section: Section) -> Management:
    if section.header.table_id != TABLE_ID:
        raise BadField(f"table 0x{section.header.table_id:02X} is not terminal management")
    r = Reader(section.body, "management")
    commands = []
    for _ in range(r.uint(1, "command_count")):
        tag = r.uint(1, "command_tag")
        loop = read_loop(r, "address_loop")
        if loop.remaining % RESOURCE_CODE_BYTES:
            raise BadField("address loop is not whole 12-byte resource codes")
        targets = tuple(
            decode_digits(
                loop.take(RESOURCE_CODE_BYTES, "address"), RESOURCE_CODE_DIGITS, "resource code"
            )
            for _ in range(loop.remaining // RESOURCE_CODE_BYTES)
        )
        body = r.take(r.uint(2, "command_length"), "command body")
        commands.append(Addressed(_parse(tag, body), targets))
    r.expect_end()
    return Management(tuple(commands))
