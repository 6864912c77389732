"""A second, minimal decoder of the EB TS signalling, written from docs/ts-signalling.md without
looking at protocols.ts (and importing none of it): if the encoder and this disagree, one of
them misreads the layout. It checks CRCs (bit by bit, not table-driven), BCD, MJD (with the
EN 300 468 Annex C formula rather than date arithmetic) and the signature trailer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Refused(ValueError):
    pass


def crc32(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        for bit in range(7, -1, -1):
            top = (crc >> 31) ^ ((byte >> bit) & 1)
            crc = (crc << 1) & 0xFFFFFFFF
            if top:
                crc ^= 0x04C11DB7
    return crc


def bcd(data: bytes, digits: int) -> str:
    nibbles = "".join(f"{b >> 4:x}{b & 15:x}" for b in data)
    if len(nibbles) == digits + 1:
        if nibbles[0] != "f":
            raise Refused(f"pad nibble {nibbles[0]}")
        nibbles = nibbles[1:]
    if len(nibbles) != digits or not nibbles.isdigit():
        raise Refused(f"not {digits} BCD digits: {data.hex()}")
    return nibbles


def mjd_date(mjd: int) -> tuple[int, int, int]:
    y1 = int((mjd - 15078.2) / 365.25)
    m1 = int((mjd - 14956.1 - int(y1 * 365.25)) / 30.6001)
    day = mjd - 14956 - int(y1 * 365.25) - int(m1 * 30.6001)
    k = 1 if m1 in (14, 15) else 0
    return y1 + k + 1900, m1 - 1 - k * 12, day


def utc(data: bytes) -> str | None:
    """'YYYY-MM-DD hh:mm:ss', or None for all ones (open end)."""
    if data == b"\xff" * 5:
        return None
    year, month, day = mjd_date(int.from_bytes(data[:2], "big"))
    hh, mm, ss = (int(bcd(bytes([b]), 2)) for b in data[2:5])
    if hh > 23 or mm > 59 or ss > 59:
        raise Refused("time of day out of range")
    return f"{year:04d}-{month:02d}-{day:02d} {hh:02d}:{mm:02d}:{ss:02d}"


class Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise Refused("truncated")
        self.at += n
        return self.data[self.at - n : self.at]

    def num(self, n: int) -> int:
        return int.from_bytes(self.read(n), "big")

    def left(self) -> int:
        return len(self.data) - self.at


@dataclass
class Sec:
    table_id: int
    extension: int
    version: int
    number: int
    last: int
    body: bytes
    signed_at: int
    cert_sn: str
    signature: bytes
    signed_part: bytes


def section(raw: bytes) -> Sec:
    if len(raw) < 3:
        raise Refused("truncated")
    length = ((raw[1] & 0x0F) << 8) | raw[2]
    if len(raw) != 3 + length:
        raise Refused("length mismatch")
    if crc32(raw) != 0:  # the CRC over a section including its CRC is zero
        raise Refused("bad crc")
    if raw[1] & 0x80 == 0:
        raise Refused("short form")
    trailer = raw[-80:]
    if trailer[:2] != b"\x00\x4a":
        raise Refused("signature length")
    block = trailer[2:76]
    return Sec(
        table_id=raw[0],
        extension=int.from_bytes(raw[3:5], "big"),
        version=(raw[5] >> 1) & 31,
        number=raw[6],
        last=raw[7],
        body=raw[8:-80],
        signed_at=int.from_bytes(block[:4], "big"),
        cert_sn=bcd(block[4:10], 12),
        signature=block[10:],
        signed_part=raw[:-80],
    )


def _loop(c: Cursor) -> Cursor:
    return Cursor(c.read(c.num(2) & 0x0FFF))


def ebit(body: bytes) -> list[dict[str, Any]]:
    c = Cursor(body)
    out = []
    for _ in range(c.num(1)):
        entry: dict[str, Any] = {
            "ebm_id": bcd(c.read(18), 35),
            "network": c.num(2),
            "start": utc(c.read(5)),
            "end": utc(c.read(5)),
            "type": c.read(5).decode("ascii"),
        }
        cl = c.num(1)
        entry["class"], entry["level"] = cl >> 4, cl & 15
        codes = _loop(c)
        entry["codes"] = [bcd(codes.read(12), 23) for _ in range(codes.left() // 12)]
        entry["tsid"], entry["program"], entry["pcr"] = c.num(2), c.num(2), c.num(2) & 0x1FFF
        descriptors = _loop(c)
        entry["descriptors"] = []
        while descriptors.left():
            tag = descriptors.num(1)
            entry["descriptors"].append((tag, descriptors.read(descriptors.num(1)).hex()))
        streams = _loop(c)
        entry["streams"] = [
            (streams.num(1), streams.num(2) & 0x1FFF) for _ in range(streams.left() // 3)
        ]
        out.append(entry)
    if c.left():
        raise Refused("trailing bytes")
    return out


CHARSETS = {1: "gb2312", 2: "gb18030", 3: "utf-8"}


def content(body: bytes) -> dict[str, Any]:
    c = Cursor(body)
    found: dict[str, Any] = {"ebm_id": bcd(c.read(18), 35), "texts": [], "aux": []}
    for _ in range(c.num(1)):
        lang = c.read(3).decode("ascii")
        codec = CHARSETS[c.num(1)]
        title = c.read(c.num(1)).decode(codec)
        text = c.read(c.num(2)).decode(codec)
        agency = c.read(c.num(1)).decode(codec)
        found["texts"].append((lang, title, text, agency))
    for _ in range(c.num(1)):
        kind = c.num(1)
        found["aux"].append((kind, c.read(c.num(2))))
    if c.left():
        raise Refused("trailing bytes")
    return found


def certificates(body: bytes) -> list[tuple[str, bool, str | None, bytes]]:
    c = Cursor(body)
    out = []
    for _ in range(c.num(1)):
        sn = bcd(c.read(6), 12)
        revoked = bool(c.num(1) & 0x80)
        not_after = utc(c.read(5))
        out.append((sn, revoked, not_after, c.read(c.num(1))))
    return out


def management(body: bytes) -> list[tuple[int, list[str], bytes]]:
    c = Cursor(body)
    out = []
    for _ in range(c.num(1)):
        tag = c.num(1)
        codes = _loop(c)
        targets = [bcd(codes.read(12), 23) for _ in range(codes.left() // 12)]
        out.append((tag, targets, c.read(c.num(2))))
    return out


def packets(stream: bytes, pid: int) -> list[bytes]:
    """Sections of ``pid`` from whole, gap-free packets (no adaptation fields expected)."""
    sections: list[bytes] = []
    pending = b""
    expected_cc: int | None = None
    for i in range(0, len(stream), 188):
        p = stream[i : i + 188]
        if len(p) != 188 or p[0] != 0x47:
            raise Refused("bad packet")
        if ((p[1] & 0x1F) << 8 | p[2]) != pid:
            continue
        if expected_cc is not None and p[3] & 15 != expected_cc:
            raise Refused("cc gap")
        expected_cc = ((p[3] & 15) + 1) & 15
        payload = p[4:]
        if p[1] & 0x40:
            pointer = payload[0]
            pending += payload[1 : 1 + pointer]
            pending = _cut(pending, sections)
            pending = _cut(payload[1 + pointer :], sections)
        else:
            pending = _cut(pending + payload, sections)
    return sections


def _cut(buffer: bytes, sections: list[bytes]) -> bytes:
    while len(buffer) >= 3 and buffer[0] != 0xFF:
        total = 3 + (((buffer[1] & 0x0F) << 8) | buffer[2])
        if len(buffer) < total:
            return buffer
        sections.append(buffer[:total])
        buffer = buffer[total:]
    return b"" if buffer[:1] == b"\xff" else buffer
