"""Identifier value types of GY/T 386 (standards.md section 3), validated on construction.

Region code: 12 digits, province 2 + city 2 + county 2 + township 3 + village 3.
EBRID: 23 digits, level 1 + region 12 + resource type 4 + type seq 2 + subtype 2 + subtype seq 2.
EBMID: 35 digits, issuing EBRID 23 + yyyymmdd 8 + sequence 4.
EBDID: 41 digits, prefix 2 + source EBRID 23 + 16 digits.
On broadcast bearers an odd-length code is packed as BCD behind a 0xF pad nibble.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache

from protocols.errors import CodeError


class RegionLevel(IntEnum):
    """Administrative level; the numbers equal the EBRID level digit."""

    NATIONAL = 1
    PROVINCE = 2
    CITY = 3
    COUNTY = 4
    TOWNSHIP = 5
    VILLAGE = 6


# Significant digit count of a code at each level.
_SIGNIFICANT = {
    RegionLevel.NATIONAL: 0,
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}
_BOUNDARIES = (0, 2, 4, 6, 9, 12)


def _digits(value: object, length: int, what: str) -> str:
    if not isinstance(value, str):
        raise CodeError(f"{what} must be a string of {length} digits, got {type(value).__name__}")
    text = value.strip()
    if len(text) != length or not text.isascii() or not text.isdigit():
        raise CodeError(f"{what} must be exactly {length} decimal digits, got {value!r}")
    return text


def pack_bcd(digits: str) -> bytes:
    """Pack decimal digits two per byte; an odd count gets a leading 0xF pad nibble."""
    if not digits.isascii() or not digits.isdigit():
        raise CodeError(f"BCD needs decimal digits, got {digits!r}")
    text = digits if len(digits) % 2 == 0 else "F" + digits
    return bytes.fromhex(text)


def unpack_bcd(data: bytes, digit_count: int) -> str:
    """Reverse of pack_bcd: checks the pad nibble and that every nibble is a decimal digit."""
    expected = (digit_count + 1) // 2
    if len(data) != expected:
        raise CodeError(f"BCD for {digit_count} digits needs {expected} bytes, got {len(data)}")
    text = data.hex().upper()
    if digit_count % 2:
        if text[0] != "F":
            raise CodeError(f"BCD pad nibble must be 0xF, got 0x{text[0]}")
        text = text[1:]
    if not text.isdigit():
        raise CodeError(f"BCD holds a non-decimal nibble: {data.hex()}")
    return text


@dataclass(frozen=True, order=True, slots=True)
class RegionCode:
    """A 12-digit administrative region code. Shorter NBS codes (2/4/6/9 digits) use ``parse``."""

    value: str
    # Derived from value once: planning asks every terminal's level. Not compared or hashed.
    _level: RegionLevel = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        text = _digits(self.value, 12, "region code")
        object.__setattr__(self, "value", text)
        level = _level_of(text)
        if level is None:
            raise CodeError(
                f"region code {text} has a non-zero part below a zero part; "
                "each level's digits must be zero when the level above is zero"
            )
        object.__setattr__(self, "_level", level)

    @classmethod
    def parse(cls, text: str) -> RegionCode:
        """Accept 2, 4, 6, 9 or 12 digits (right-padded with zeros), as GB2260 geocodes carry."""
        if not isinstance(text, str):
            raise CodeError(f"region code must be a string, got {type(text).__name__}")
        stripped = text.strip()
        if (
            len(stripped) not in (2, 4, 6, 9, 12)
            or not stripped.isascii()
            or not stripped.isdigit()
        ):
            raise CodeError(f"region code must be 2, 4, 6, 9 or 12 digits, got {text!r}")
        return cls(stripped.ljust(12, "0"))

    @property
    def level(self) -> RegionLevel:
        return self._level

    @property
    def significant(self) -> str:
        """The digits that identify this region (``341523`` for ``341523000000``)."""
        return self.value[: _SIGNIFICANT[self.level]]

    @property
    def parent(self) -> RegionCode | None:
        if self.level is RegionLevel.NATIONAL:
            return None
        cut = _SIGNIFICANT[RegionLevel(self.level - 1)]
        return RegionCode(self.value[:cut].ljust(12, "0"))

    def ancestors(self) -> list[RegionCode]:
        """From the parent up to the national root."""
        chain: list[RegionCode] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def contains(self, other: RegionCode) -> bool:
        """True when ``other`` is this region or lies inside it."""
        return other.value.startswith(self.significant)

    def to_bcd(self) -> bytes:
        return pack_bcd(self.value)

    @classmethod
    def from_bcd(cls, data: bytes) -> RegionCode:
        return cls(unpack_bcd(data, 12))

    def __str__(self) -> str:
        return self.value


@lru_cache(maxsize=1 << 16)  # a province's terminals share some 10^4 village codes
def _level_of(text: str) -> RegionLevel | None:
    """Level of the deepest non-zero part, or None when a part above it is zero.

    The county part alone may be zero above a township: prefecture cities without counties
    (东莞 4419, 中山 4420, 儋州 4604, 嘉峪关 6202) number their townships 441900003 and so on.
    """
    parts = [text[a:b] for a, b in itertools.pairwise(_BOUNDARIES)]
    deepest = max((i for i, part in enumerate(parts) if part.strip("0")), default=-1)
    for i in range(deepest):
        if not parts[i].strip("0") and i != 2:
            return None
    return RegionLevel(deepest + 2)


RESOURCE_TYPES: dict[str, str] = {
    "0101": "platform",
    "0102": "playout system",
    "0103": "dispatch-control system",
    "0104": "effect evaluation",
    "0201": "station",
    "0202": "station",
    "0203": "station",
    "0301": "FM",
    "0302": "cable digital TV",
    "0303": "DTMB",
    "0304": "analogue cable TV",
    "0305": "analogue terrestrial TV",
    "0306": "MW",
    "0307": "SW",
    "0308": "DTH satellite",
    "0309": "satellite TV",
    "0311": "DAB",
    "0312": "mobile",
    "0313": "IPTV",
    "0314": "loudspeaker system",
    "0399": "multi-type",
}

SUBTYPES: dict[str, str] = {
    "01": "platform/system",
    "02": "adapter",
    "03": "broadcast device",
    "04": "terminal",
    "05": "station",
}


@dataclass(frozen=True, order=True, slots=True)
class ResourceCode:
    """A 23-digit resource code (EBRID)."""

    value: str

    def __post_init__(self) -> None:
        text = _digits(self.value, 23, "resource code (EBRID)")
        object.__setattr__(self, "value", text)
        level_digit = int(text[0])
        if not 1 <= level_digit <= 6:
            raise CodeError(f"EBRID {text}: level digit must be 1-6, got {level_digit}")
        region = RegionCode(text[1:13])
        if region.level.value > level_digit:
            raise CodeError(
                f"EBRID {text}: level {level_digit} cannot carry the "
                f"{region.level.name.lower()} region code {region.value}"
            )
        if text[13:17] not in RESOURCE_TYPES:
            raise CodeError(f"EBRID {text}: unknown resource type {text[13:17]}")
        if text[19:21] not in SUBTYPES:
            raise CodeError(f"EBRID {text}: unknown subtype {text[19:21]} (01-05)")

    @classmethod
    def build(
        cls,
        *,
        level: RegionLevel,
        region: RegionCode,
        resource_type: str,
        type_seq: int = 1,
        subtype: str = "01",
        subtype_seq: int = 1,
    ) -> ResourceCode:
        return cls(
            f"{int(level)}{region.value}{resource_type}{type_seq:02d}{subtype}{subtype_seq:02d}"
        )

    @property
    def level(self) -> RegionLevel:
        return RegionLevel(int(self.value[0]))

    @property
    def region(self) -> RegionCode:
        return RegionCode(self.value[1:13])

    @property
    def resource_type(self) -> str:
        return self.value[13:17]

    @property
    def type_sequence(self) -> str:
        return self.value[17:19]

    @property
    def subtype(self) -> str:
        return self.value[19:21]

    @property
    def subtype_sequence(self) -> str:
        return self.value[21:23]

    def describe(self) -> str:
        return f"{RESOURCE_TYPES[self.resource_type]} {SUBTYPES[self.subtype]}"

    def to_bcd(self) -> bytes:
        return pack_bcd(self.value)

    @classmethod
    def from_bcd(cls, data: bytes) -> ResourceCode:
        return cls(unpack_bcd(data, 23))

    def __str__(self) -> str:
        return self.value


def _date_digits(text: str, what: str) -> dt.date:
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:
        raise CodeError(f"{what}: {text} is not a calendar date (yyyymmdd)") from exc


@dataclass(frozen=True, order=True, slots=True)
class EBMID:
    """A 35-digit message id: issuing platform EBRID + yyyymmdd + 4-digit sequence."""

    value: str

    def __post_init__(self) -> None:
        text = _digits(self.value, 35, "EBMID")
        object.__setattr__(self, "value", text)
        ResourceCode(text[:23])
        _date_digits(text[23:31], f"EBMID {text}")

    @classmethod
    def build(cls, issuer: ResourceCode, day: dt.date, sequence: int) -> EBMID:
        if not 0 <= sequence <= 9999:
            raise CodeError(f"EBMID sequence must be 0-9999, got {sequence}")
        return cls(f"{issuer.value}{day:%Y%m%d}{sequence:04d}")

    @property
    def issuer(self) -> ResourceCode:
        return ResourceCode(self.value[:23])

    @property
    def day(self) -> dt.date:
        return _date_digits(self.value[23:31], "EBMID")

    @property
    def sequence(self) -> int:
        return int(self.value[31:])

    def to_bcd(self) -> bytes:
        return pack_bcd(self.value)

    @classmethod
    def from_bcd(cls, data: bytes) -> EBMID:
        return cls(unpack_bcd(data, 35))

    def __str__(self) -> str:
        return self.value


EBDID_PREFIX_BUSINESS = "10"
EBDID_PREFIX_HEARTBEAT = "01"


@dataclass(frozen=True, order=True, slots=True)
class EBDID:
    """A 41-digit data-package id: 2-digit prefix + source EBRID + 16 digits (yyyymmdd + counter).

    The prefix meaning (10 business, 01 heartbeat) is unconfirmed; any two digits are accepted.
    """

    value: str

    def __post_init__(self) -> None:
        text = _digits(self.value, 41, "EBDID")
        object.__setattr__(self, "value", text)
        ResourceCode(text[2:25])

    @classmethod
    def build(
        cls, source: ResourceCode, day: dt.date, counter: int, prefix: str = EBDID_PREFIX_BUSINESS
    ) -> EBDID:
        if not 0 <= counter <= 99_999_999:
            raise CodeError(f"EBDID daily counter must be 0-99999999, got {counter}")
        _digits(prefix, 2, "EBDID prefix")
        return cls(f"{prefix}{source.value}{day:%Y%m%d}{counter:08d}")

    @property
    def prefix(self) -> str:
        return self.value[:2]

    @property
    def source(self) -> ResourceCode:
        return ResourceCode(self.value[2:25])

    @property
    def serial(self) -> str:
        return self.value[25:]

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, order=True, slots=True)
class CertSN:
    """A 12-digit certificate serial, carried as 6 BCD bytes in signature blocks."""

    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _digits(self.value, 12, "certificate serial (CertSN)"))

    def to_bcd(self) -> bytes:
        return pack_bcd(self.value)

    @classmethod
    def from_bcd(cls, data: bytes) -> CertSN:
        return cls(unpack_bcd(data, 12))

    def __str__(self) -> str:
        return self.value
