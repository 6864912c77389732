"""Field packing shared by the bodies: BCD codes, fixed ASCII, length-prefixed text.

Codes are checked for shape only (23 or 35 decimal digits): whether an EBRID names a real
resource is the receiver's business, and a wire codec that refused odd-but-well-formed ids
would hide them from the logs that should show them.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TypeVar

from protocols.codes import pack_bcd, unpack_bcd
from protocols.errors import CodeError
from protocols.legacy_ip.errors import BadBcd, BadField, TrailingBytes, Truncated

EBRID_DIGITS = 23
EBMID_DIGITS = 35
EBRID_BYTES = 12
EBMID_BYTES = 18
PHYSICAL_BYTES = 6
#: Chinese legacy devices read GB 18030 (which includes GB2312); unconfirmed for GD/J 089.
TEXT_ENCODING = "gb18030"

E = TypeVar("E", bound=IntEnum)


def bcd(digits: str, count: int, what: str) -> bytes:
    if len(digits) != count:
        raise BadBcd(f"{what} needs {count} digits, got {len(digits)}: {digits!r}")
    try:
        return pack_bcd(digits)
    except CodeError as exc:
        raise BadBcd(f"{what}: {exc.message}") from exc


def ascii_field(text: str, size: int, what: str) -> bytes:
    if len(text) != size or not text.isascii() or not text.isprintable():
        raise BadField(f"{what} must be {size} printable ASCII characters, got {text!r}")
    return text.encode("ascii")


def text_field(text: str, what: str, encoding: str = TEXT_ENCODING) -> bytes:
    """1-byte length + text; the length counts encoded bytes."""
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise BadField(f"{what} cannot be written in {encoding}: {exc.reason}") from exc
    if len(data) > 0xFF:
        raise BadField(f"{what} is {len(data)} bytes in {encoding}; at most 255 fit")
    return bytes([len(data)]) + data


def uint(value: int, size: int, what: str) -> bytes:
    if not 0 <= value < 1 << (8 * size):
        raise BadField(f"{what} must fit {size} byte(s), got {value}")
    return value.to_bytes(size, "big")


def enum_field(kind: type[E], value: int, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise BadField(f"{what}: 0x{value:02X} is not one of {[int(v) for v in kind]}") from None


class Cursor:
    """Reads a body front to back; every shortfall is Truncated, every leftover TrailingBytes."""

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._at = 0
        self._what = what

    def take(self, size: int, field: str) -> bytes:
        end = self._at + size
        if end > len(self._data):
            raise Truncated(
                f"{self._what}: {field} needs {size} bytes at offset {self._at}; "
                f"the body has {len(self._data)}"
            )
        chunk = self._data[self._at : end]
        self._at = end
        return chunk

    def uint(self, size: int, field: str) -> int:
        return int.from_bytes(self.take(size, field), "big")

    def bcd(self, count: int, field: str) -> str:
        raw = self.take((count + 1) // 2, field)
        try:
            return unpack_bcd(raw, count)
        except CodeError as exc:
            raise BadBcd(f"{self._what}: {field}: {exc.message}") from exc

    def ascii(self, size: int, field: str) -> str:
        raw = self.take(size, field)
        text = raw.decode("ascii", errors="replace")
        if not raw.isascii() or not text.isprintable():
            raise BadField(f"{self._what}: {field} is not printable ASCII: {raw.hex()}")
        return text

    def text(self, field: str, encoding: str = TEXT_ENCODING) -> str:
        raw = self.take(self.uint(1, f"{field} length"), field)
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise BadField(f"{self._what}: {field} is not {encoding}: {exc.reason}") from exc

    def end(self) -> None:
        left = len(self._data) - self._at
        if left:
            raise TrailingBytes(f"{self._what}: {left} bytes after the last field")
