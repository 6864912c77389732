"""Field-level building blocks: a bounds-checked reader, BCD digits, 40-bit MJD+BCD times."""

from __future__ import annotations

import datetime as dt

from protocols.codes import pack_bcd, unpack_bcd
from protocols.errors import CodeError
from protocols.ts.errors import BadBcd, BadField, BadMjd, Truncated

EBM_ID_DIGITS = 35
EBM_ID_BYTES = 18
RESOURCE_CODE_DIGITS = 23
RESOURCE_CODE_BYTES = 12
CERT_SN_DIGITS = 12
CERT_SN_BYTES = 6
TIME_BYTES = 5
OPEN_END = b"\xff" * TIME_BYTES

_MJD_EPOCH = dt.date(1858, 11, 17)
# Signed times are UNIX seconds, so nothing before 1970 is meaningful; 16 bits of MJD end here.
MJD_MIN = (dt.date(1970, 1, 1) - _MJD_EPOCH).days
MJD_MAX = 0xFFFF


class Reader:
    """Consumes ``data`` front to back; running past the end raises Truncated naming the field."""

    def __init__(self, data: bytes, what: str) -> None:
        self._data = bytes(data)
        self._pos = 0
        self._what = what

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, count: int, field: str) -> bytes:
        if count < 0 or self.remaining < count:
            raise Truncated(
                f"{self._what}: {field} needs {count} bytes at offset {self._pos}, "
                f"{self.remaining} left"
            )
        chunk = self._data[self._pos : self._pos + count]
        self._pos += count
        return chunk

    def uint(self, count: int, field: str) -> int:
        return int.from_bytes(self.take(count, field), "big")

    def take_all(self) -> bytes:
        return self.take(self.remaining, "rest")

    def sub(self, count: int, field: str) -> Reader:
        return Reader(self.take(count, field), f"{self._what}/{field}")

    def expect_end(self) -> None:
        if self.remaining:
            raise BadField(f"{self._what}: {self.remaining} unexpected bytes at the end")


def encode_digits(value: str, count: int, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != count:
        raise BadField(f"{what} must be {count} decimal digits, got {value!r}")
    try:
        return pack_bcd(value)
    except CodeError as exc:
        raise BadBcd(f"{what}: {exc.message}") from exc


def decode_digits(data: bytes, count: int, what: str) -> str:
    try:
        return unpack_bcd(bytes(data), count)
    except CodeError as exc:
        raise BadBcd(f"{what}: {exc.message}") from exc


def bcd_number(value: int, digits: int, what: str) -> int:
    """``value`` as packed BCD in an int of ``digits`` nibbles (12345 -> 0x12345)."""
    if not isinstance(value, int) or not 0 <= value < 10**digits:
        raise BadField(f"{what} must fit {digits} decimal digits, got {value!r}")
    return int(f"{value:0{digits}d}", 16)


def from_bcd_number(value: int, digits: int, what: str) -> int:
    text = f"{value:0{digits}x}"
    if not text.isdigit():
        raise BadBcd(f"{what}: 0x{text} is not BCD")
    return int(text)


def encode_ascii(value: str, length: int, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != length or not value.isascii():
        raise BadField(f"{what} must be {length} ASCII characters, got {value!r}")
    if not value.isprintable():
        raise BadField(f"{what} must be printable, got {value!r}")
    return value.encode("ascii")


def decode_ascii(data: bytes, what: str) -> str:
    try:
        text = bytes(data).decode("ascii")
    except UnicodeDecodeError as exc:
        raise BadField(f"{what} is not ASCII: {data.hex()}") from exc
    if not text.isprintable():
        raise BadField(f"{what} holds control characters: {data.hex()}")
    return text


def encode_time(moment: dt.datetime | None) -> bytes:
    """16-bit MJD + hh mm ss in BCD, UTC; None (open end) is all ones. Sub-seconds dropped."""
    if moment is None:
        return OPEN_END
    if not isinstance(moment, dt.datetime) or moment.utcoffset() is None:
        raise BadField(f"times must be timezone-aware datetimes, got {moment!r}")
    utc = moment.astimezone(dt.UTC)
    mjd = (utc.date() - _MJD_EPOCH).days
    if not MJD_MIN <= mjd <= MJD_MAX:
        raise BadMjd(f"{utc.isoformat()} is outside the 16-bit MJD range from 1970")
    clock = bytes.fromhex(f"{utc.hour:02d}{utc.minute:02d}{utc.second:02d}")
    return mjd.to_bytes(2, "big") + clock


def decode_time(data: bytes, what: str = "time") -> dt.datetime | None:
    if len(data) != TIME_BYTES:
        raise Truncated(f"{what} needs {TIME_BYTES} bytes, got {len(data)}")
    if bytes(data) == OPEN_END:
        return None
    mjd = int.from_bytes(data[:2], "big")
    if mjd < MJD_MIN:
        raise BadMjd(f"{what}: MJD {mjd} is before 1970-01-01")
    text = bytes(data[2:]).hex()
    if not text.isdigit():
        raise BadBcd(f"{what}: hh mm ss 0x{text} is not BCD")
    hour, minute, second = int(text[:2]), int(text[2:4]), int(text[4:])
    if hour > 23 or minute > 59 or second > 59:
        raise BadBcd(f"{what}: {hour:02d}:{minute:02d}:{second:02d} is not a time of day")
    day = _MJD_EPOCH + dt.timedelta(days=mjd)
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=dt.UTC)


def loop_length(length: int, what: str) -> bytes:
    """``reserved(4)=1111 + length(12)``, the MPEG-2 way of prefixing a loop."""
    if not 0 <= length <= 0x0FFF:
        raise BadField(f"{what} of {length} bytes does not fit a 12-bit length")
    return (0xF000 | length).to_bytes(2, "big")


def read_loop(r: Reader, what: str) -> Reader:
    return r.sub(r.uint(2, f"{what}_length") & 0x0FFF, what)
