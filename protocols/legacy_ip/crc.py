"""CRC-32/MPEG-2 (poly 0x04C11DB7, init 0xFFFFFFFF, not reflected, no final XOR).

The same CRC as ``signing.block.crc32_mpeg2``; repeated here because protocols/ may not import
signing/, and a test checks that the two agree.
"""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    rows = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
        rows.append(crc)
    return tuple(rows)


_TABLE = _table()


def crc32_mpeg2(data: bytes, crc: int = 0xFFFFFFFF) -> int:
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[(crc >> 24) ^ byte]
    return crc
