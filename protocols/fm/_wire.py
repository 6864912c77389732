"""A cursor over bytes whose every short read is a ``Truncated`` naming the field."""

from __future__ import annotations

from protocols.codes import pack_bcd, unpack_bcd
from protocols.errors import CodeError
from protocols.fm.errors import BadBcd, BadField, Truncated


class Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    @property
    def left(self) -> int:
        return len(self._data) - self._pos

    def take(self, count: int, field: str) -> bytes:
        if count > self.left:
            raise Truncated(
                f"{self._what}: {field} needs {count} bytes at offset {self._pos}, "
                f"only {self.left} left"
            )
        chunk = self._data[self._pos : self._pos + count]
        self._pos += count
        return chunk

    def byte(self, field: str) -> int:
        return self.take(1, field)[0]

    def uint32(self, field: str) -> int:
        return int.from_bytes(self.take(4, field), "big")

    def digits(self, count: int, field: str) -> str:
        data = self.take((count + 1) // 2, field)
        try:
            return unpack_bcd(data, count)
        except CodeError as exc:
            raise BadBcd(f"{self._what}: {field}: {exc.message}") from exc

    def rest(self) -> bytes:
        return self.take(self.left, "rest")

    def end(self) -> None:
        if self.left:
            raise BadField(f"{self._what}: {self.left} bytes left over after the last field")


def digits_field(value: str, count: int, field: str) -> bytes:
    """``value`` as ``count`` BCD digits, or BadField saying what is wrong with it."""
    if (
        not isinstance(value, str)
        or len(value) != count
        or not (value.isascii() and value.isdigit())
    ):
        raise BadField(f"{field} must be {count} decimal digits, got {value!r}")
    return pack_bcd(value)


def uint32_field(value: int, field: str) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise BadField(f"{field} must be UNIX seconds in 0..{0xFFFFFFFF}, got {value!r}")
    return value.to_bytes(4, "big")
