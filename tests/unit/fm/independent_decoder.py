"""A second, minimal reader of the FM packet and RDS group layouts (docs/fm-rds.md), written
from the documentation and sharing no code with protocols.fm: if both agree on the golden
bytes, a mistake would have to be made twice, the same way.

It raises AssertionError for anything that does not fit the layout.
"""

from __future__ import annotations

from dataclasses import dataclass


def crc32_mpeg2(data: bytes) -> int:
    """Bit by bit, the slow obvious way (protocols.fm uses a table)."""
    crc = 0xFFFFFFFF
    for byte in data:
        for bit in range(7, -1, -1):
            incoming = (byte >> bit) & 1
            top = (crc >> 31) & 1
            crc = (crc << 1) & 0xFFFFFFFF
            if top ^ incoming:
                crc ^= 0x04C11DB7
    return crc


def bcd(data: bytes, digits: int) -> str:
    nibbles = "".join(f"{b >> 4:X}{b & 15:X}" for b in data)
    assert len(nibbles) == digits + digits % 2, f"{len(data)} bytes for {digits} digits"
    if digits % 2:
        assert nibbles[0] == "F", f"pad nibble {nibbles[0]}"
        nibbles = nibbles[1:]
    assert nibbles.isdigit(), f"non-decimal nibble in {data.hex()}"
    return nibbles


@dataclass
class RawPacket:
    packet_type: int
    length: int
    codes: list[str]
    body: bytes
    signed_at: int
    cert_sn: str
    signature: bytes
    signed_bytes: bytes  # what the signature covers


def parse_packet(data: bytes) -> RawPacket:
    word = data[0] << 8 | data[1]
    packet_type, length = word >> 11, word & 0x07FF
    assert len(data) == length + 2, f"length field {length}, {len(data)} bytes"
    crc = int.from_bytes(data[-4:], "big")
    assert crc == crc32_mpeg2(data[:-4]), "CRC32/MPEG-2 over everything before it"
    count = data[2]
    codes = [bcd(data[3 + 12 * n : 15 + 12 * n], 23) for n in range(count)]
    block = data[-78:-4]
    assert len(block) == 74
    body = data[3 + 12 * count : -78]
    return RawPacket(
        packet_type=packet_type,
        length=length,
        codes=codes,
        body=body,
        signed_at=int.from_bytes(block[:4], "big"),
        cert_sn=bcd(block[4:10], 12),
        signature=block[10:],
        signed_bytes=data[:-78] + block[:4],
    )


def parse_emergency(body: bytes) -> dict[str, object]:
    first = body[0]
    fields: dict[str, object] = {
        "action": first >> 6,
        "switch": (first >> 4) & 3,
        "level": first & 15,
        "event_type": body[1:6].decode("ascii"),
        "ebmid": bcd(body[6:24], 35),
        "frequency_khz": int(bcd(body[24:27], 6)),
    }
    rest = body[27:]
    while rest:
        tag, size = rest[0], rest[1]
        value, rest = rest[2 : 2 + size], rest[2 + size :]
        assert len(value) == size, "extension runs past the body"
        fields[{1: "alert_id", 2: "start", 3: "end"}.get(tag, f"tag{tag}")] = (
            value.decode("utf-8") if tag == 1 else int.from_bytes(value, "big")
        )
    return fields


def parse_text(body: bytes) -> dict[str, object]:
    title_end = 24 + body[23]
    return {
        "ebmid": bcd(body[:18], 35),
        "language": body[18:21].decode("ascii"),
        "part": body[21],
        "parts": body[22],
        "title": body[24:title_end].decode("gb18030"),
        "text": body[title_end:].decode("gb18030"),
    }


def reassemble(lines: list[str], *, pi: int, aid: int = 0xEBC1) -> list[bytes]:
    """Packets from group text; the data group is whatever the 3A for ``aid`` announces."""
    data_group: int | None = None
    packets: list[bytes] = []
    current: list[int] | None = None
    expected = 0
    for line in lines:
        a, b, c, d = (int(block, 16) for block in line.split())
        assert a == pi, f"PI {a:04X}"
        group_type, version, free = b >> 12, (b >> 11) & 1, b & 0x1F
        if (group_type, version) == (3, 0) and d == aid:
            data_group = free
            continue
        assert data_group is not None, "data before the ODA announcement"
        assert b >> 11 == data_group, f"group {group_type}{'AB'[version]}"
        first, last, counter = free >> 4, (free >> 3) & 1, free & 7
        if first:
            assert current is None and counter == 0
            current, expected = [], 0
        assert current is not None and counter == expected % 8
        current += [c >> 8, c & 255, d >> 8, d & 255]
        expected += 1
        if last:
            total = ((current[0] << 8 | current[1]) & 0x07FF) + 2
            assert len(current) - total in range(4) and not any(current[total:])
            packets.append(bytes(current[:total]))
            current = None
    assert current is None, "stream ended inside a packet"
    return packets
