"""A second, deliberately naive reading of a legacy loudspeaker frame, written from the layout
tables of docs/legacy-loudspeakers.md and sharing no code with protocols.legacy_ip (nor with
protocols.codes or signing): if the codec and the documentation drift apart, one of the two
readers disagrees with the golden bytes.
"""

from __future__ import annotations

from dataclasses import dataclass


def crc32_mpeg2_bitwise(data: bytes) -> int:
    """Bit by bit, no table: slow and obviously the textbook MPEG-2 CRC."""
    crc = 0xFFFFFFFF
    for byte in data:
        for bit in range(7, -1, -1):
            incoming = (byte >> bit) & 1
            top = (crc >> 31) & 1
            crc = (crc << 1) & 0xFFFFFFFF
            if top ^ incoming:
                crc ^= 0x04C11DB7
    return crc


def bcd_digits(data: bytes, count: int) -> str:
    """Nibbles as digits; an odd count must start with the 0xF pad nibble."""
    nibbles = []
    for byte in data:
        nibbles += [byte >> 4, byte & 0x0F]
    if count % 2:
        if nibbles[0] != 0xF:
            raise ValueError(f"pad nibble is {nibbles[0]:X}, not F")
        nibbles = nibbles[1:]
    if len(nibbles) != count or any(n > 9 for n in nibbles):
        raise ValueError(f"not {count} BCD digits: {data.hex()}")
    return "".join(str(n) for n in nibbles)


@dataclass
class Decoded:
    direction: int
    version: int
    protocol_type: int
    sequence: int
    body: bytes
    signature_length: int
    signed_at: int
    cert_sn: str
    signature: bytes
    crc: int
    crc_ok: bool
    signed_bytes: bytes


def decode(frame: bytes) -> Decoded:
    direction = frame[0]
    version = frame[1] * 256 + frame[2]
    protocol_type = frame[3]
    sequence = frame[4]
    length = int.from_bytes(frame[5:9], "big")
    if len(frame) != 9 + length + 80:
        raise ValueError(f"length field says {9 + length + 80} bytes, frame has {len(frame)}")
    body = frame[9 : 9 + length]
    tail = frame[9 + length :]
    signature_length = int.from_bytes(tail[0:2], "big")
    block = tail[2:76]
    crc = int.from_bytes(tail[76:80], "big")
    return Decoded(
        direction=direction,
        version=version,
        protocol_type=protocol_type,
        sequence=sequence,
        body=body,
        signature_length=signature_length,
        signed_at=int.from_bytes(block[0:4], "big"),
        cert_sn=bcd_digits(block[4:10], 12),
        signature=block[10:74],
        crc=crc,
        crc_ok=crc32_mpeg2_bitwise(frame[:-4]) == crc,
        signed_bytes=frame[: 9 + length] + block[0:4],
    )
