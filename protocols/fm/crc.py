"""CRC-32/MPEG-2: poly 0x04C11DB7, init 0xFFFFFFFF, not reflected, no final XOR.

The same CRC ends every MPEG-2 TS section and the GY/T 389 signature frame, so one routine
serves every bearer. It lives here as well as in ``signing.block`` because ``protocols`` may
not import ``signing`` (tests/unit/test_import_boundaries.py).
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
