"""The GD/J 089 Appendix D frame: 9-byte header, body, 80-byte signature tail.

    header   direction (1) | version 0x0001 (2) | protocol type (1) | sequence (1) | body length (4)
    body     ``body length`` bytes, laid out per protocol type (bodies.py)
    tail     signature length 0x004A (2) | signature block (74) | CRC32 (4)

All integers are big-endian. The sequence byte is our reading of the ninth header byte the digest
leaves unnamed (unconfirmed): replies echo the sequence of the frame they answer.

Signed bytes: header + body + the block's 4-byte time (GY/T 389's bearer rule with the header
as part of the payload, so the direction, protocol type and length are covered too).
CRC32: every byte before it (header + body + signature length + block), so the transport check
also covers the header, unlike a bare signature frame whose payload has its own CRC.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from protocols.legacy_ip.crc import crc32_mpeg2
from protocols.legacy_ip.errors import (
    BadCrc,
    BadDirection,
    BadSignature,
    BadSignatureLength,
    BadVersion,
    TooLong,
    TrailingBytes,
    Truncated,
    UnknownCommand,
)

HEADER_LENGTH = 9
BLOCK_LENGTH = 74
TAIL_LENGTH = 2 + BLOCK_LENGTH + 4
VERSION = 0x0001
#: Bigger than any body this codec builds (a full 0x04 frame of 32 codes is under 1 KiB) and
#: small enough that a hostile length field cannot make a reader buffer much.
DEFAULT_MAX_BODY = 64 * 1024

_HEADER = struct.Struct(">BHBBI")

#: payload (header + body) -> the 74-byte signature block over payload + its time.
SignFunction = Callable[[bytes], bytes]
#: (payload, block) -> whether the block's signature is good for payload + its time.
VerifyFunction = Callable[[bytes, bytes], bool]


class Direction(IntEnum):
    DOWN = 0x49  # platform (here: the gateway) -> terminal
    UP = 0x50  # terminal -> platform


class Command(IntEnum):
    START_STOP = 0x04
    SET_RESOURCE_CODE = 0x05
    VOLUME = 0x06
    RETURN_PARAMETERS = 0x07
    QUERY = 0x08
    CLOCK = 0x09
    NETWORK_PARAMETERS = 0x0A
    RETURN_PERIOD = 0x0B
    RETURN_PARAMETERS_2 = 0x0D
    RECORD_QUERY = 0x10
    FAULT_QUERY = 0x11
    GENERAL_REPLY = 0x12
    QUERY_REPLY_13 = 0x13
    QUERY_REPLY_14 = 0x14
    QUERY_REPLY_15 = 0x15
    QUERY_REPLY_16 = 0x16
    START_STOP_REPLY = 0x17
    TASK_START = 0x18
    TASK_END = 0x19
    HEARTBEAT = 0x20
    CERTIFICATE = 0x40
    CERTIFICATE_2 = 0x41


@dataclass(frozen=True, slots=True)
class Frame:
    direction: Direction
    command: Command
    sequence: int
    body: bytes
    block: bytes

    @property
    def payload(self) -> bytes:
        """What the signature covers, before the block's time is appended."""
        return header(self.direction, self.command, self.sequence, len(self.body)) + self.body

    @property
    def signed_at(self) -> int:
        return int.from_bytes(self.block[:4], "big")


def header(direction: Direction, command: Command, sequence: int, length: int) -> bytes:
    return _HEADER.pack(direction, VERSION, command, sequence, length)


def encode_frame(
    direction: Direction,
    command: Command,
    body: bytes,
    *,
    sequence: int = 0,
    sign: SignFunction | None = None,
    block: bytes | None = None,
) -> bytes:
    """One frame; the block comes from ``sign(payload)`` or is given ready-made (exactly one)."""
    if (sign is None) == (block is None):
        raise ValueError("pass exactly one of sign= or block=")
    if not 0 <= sequence <= 0xFF:
        raise ValueError(f"sequence must fit one byte, got {sequence}")
    payload = header(direction, command, sequence, len(body)) + body
    signature_block = sign(payload) if sign is not None else block
    assert signature_block is not None
    if len(signature_block) != BLOCK_LENGTH:
        raise ValueError(
            f"signature block must be {BLOCK_LENGTH} bytes, got {len(signature_block)}"
        )
    signed = payload + BLOCK_LENGTH.to_bytes(2, "big") + signature_block
    return signed + crc32_mpeg2(signed).to_bytes(4, "big")


def check_header(data: bytes, *, max_body: int = DEFAULT_MAX_BODY) -> int:
    """The whole frame's length from its first 9 bytes, or why the stream cannot be trusted."""
    if len(data) < HEADER_LENGTH:
        raise Truncated(f"a frame header needs {HEADER_LENGTH} bytes, got {len(data)}")
    direction, version, _, _, length = _HEADER.unpack_from(data)
    if direction not in (Direction.DOWN, Direction.UP):
        raise BadDirection(f"direction byte 0x{direction:02X} is neither 0x49 nor 0x50")
    if version != VERSION:
        raise BadVersion(f"protocol version 0x{version:04X}; this codec speaks 0x{VERSION:04X}")
    if length > max_body:
        raise TooLong(f"body length {length} exceeds the limit of {max_body} bytes")
    return HEADER_LENGTH + int(length) + TAIL_LENGTH


def decode_frame(
    data: bytes,
    *,
    expect: Direction | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    verify: VerifyFunction | None = None,
) -> Frame:
    """One whole frame; the signature is checked only when ``verify`` is given."""
    total = check_header(data, max_body=max_body)
    if len(data) < total:
        raise Truncated(f"the header announces a {total}-byte frame; got {len(data)} bytes")
    if len(data) > total:
        raise TrailingBytes(f"{len(data) - total} bytes after a {total}-byte frame")
    found = int.from_bytes(data[-4:], "big")
    computed = crc32_mpeg2(data[:-4])
    if found != computed:
        raise BadCrc(f"frame CRC32 is 0x{found:08X}; computed 0x{computed:08X}")
    raw_direction, _, raw_command, sequence, length = _HEADER.unpack_from(data)
    direction = Direction(raw_direction)
    if expect is not None and direction is not expect:
        raise BadDirection(f"expected direction 0x{expect:02X}, got 0x{direction:02X}")
    try:
        command = Command(raw_command)
    except ValueError:
        raise UnknownCommand(f"unknown protocol type 0x{raw_command:02X}") from None
    end = HEADER_LENGTH + length
    signature_length = int.from_bytes(data[end : end + 2], "big")
    if signature_length != BLOCK_LENGTH:
        raise BadSignatureLength(
            f"signature length field is 0x{signature_length:04X}; expected 0x{BLOCK_LENGTH:04X}"
        )
    frame = Frame(
        direction,
        command,
        sequence,
        bytes(data[HEADER_LENGTH:end]),
        bytes(data[end + 2 : end + 2 + BLOCK_LENGTH]),
    )
    if verify is not None and not verify(frame.payload, frame.block):
        raise BadSignature(f"the signature of a 0x{command:02X} frame does not verify")
    return frame
