"""The bodies of the FM packets (standards.md section 6), field by field. Numbers are big-endian.

Only the field order of type 11 is published; everything else here is this platform's reading,
documented in docs/fm-rds.md, and every decoder refuses what it cannot read exactly rather than
guess. An EBMID is carried as 35 BCD digits behind a 0xF pad (18 bytes). Its digits are not
checked as an EBMID (issuer code, date): a stop must reach receivers whatever the id looks like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from protocols.codes import CertSN
from protocols.fm._wire import Reader, digits_field, uint32_field
from protocols.fm.errors import BadField, UnknownType

EBMID_DIGITS = 35
FREQUENCY_DIGITS = 6  # kHz: 87500-108000 in China, 6 digits leave room for any FM band
TEXT_ENCODING = "gb18030"


class PacketType(IntEnum):
    SCAN_LIST = 0
    SET_RESOURCE_CODE = 1
    KEEP_ALIVE_SWITCH = 2
    TIME_SYNC = 3
    RETURN_PARAMETERS = 4
    RETURN_PERIOD = 5
    CERTIFICATES = 6
    REVOCATIONS = 7
    STATUS_QUERY = 8
    EMERGENCY = 11
    RESET = 12
    FACTORY_RESET = 13
    DRILL = 14
    TEXT = 15
    KEEP_ALIVE = 21
    DAILY_BROADCAST = 22
    DEFAULT_VOLUME = 23
    AMPLIFIER = 24


class Action(IntEnum):
    """The 2-bit start/stop field; 0 and 3 are refused."""

    START = 1
    STOP = 2


class Tag(IntEnum):
    """Extensions after the published fields of types 11/14: tag (1), length (1), value."""

    ALERT_ID = 0x01  # UTF-8; the platform's alert id, echoed in acks
    START = 0x02  # UNIX seconds; absent: now
    END = 0x03  # UNIX seconds; absent: open end


def _event_type(value: str) -> bytes:
    if not (isinstance(value, str) and len(value) == 5 and value.isascii() and value.isalnum()):
        raise BadField(f"event type must be 5 ASCII letters or digits, got {value!r}")
    return value.encode("ascii")


def _small(value: int, bits: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise BadField(f"{field} must fit {bits} bits, got {value!r}")
    return value


@dataclass(frozen=True)
class Emergency:
    """Types 11 (emergency) and 14 (drill): one layout, so a drill can never look real."""

    action: Action
    ebmid: str
    event_type: str
    level: int
    frequency_khz: int
    frequency_switch: int = 0  # 0: the audio is on this station; 1: tune to frequency_khz
    drill: bool = False
    alert_id: str = ""
    start_unix: int = 0
    end_unix: int = 0

    @property
    def packet_type(self) -> PacketType:
        return PacketType.DRILL if self.drill else PacketType.EMERGENCY

    def to_bytes(self) -> bytes:
        if self.action not in (Action.START, Action.STOP):
            raise BadField(f"start/stop must be 1 (start) or 2 (stop), got {self.action!r}")
        first = (
            int(self.action) << 6
            | _small(self.frequency_switch, 2, "frequency switch") << 4
            | _small(self.level, 4, "level")
        )
        alert = self.alert_id.encode("utf-8")
        if len(alert) > 255:
            raise BadField(f"alert id is {len(alert)} bytes in UTF-8; at most 255 fit")
        out = bytearray([first])
        out += _event_type(self.event_type)
        out += digits_field(self.ebmid, EBMID_DIGITS, "EBMID")
        frequency = self.frequency_khz
        if (
            isinstance(frequency, bool)
            or not isinstance(frequency, int)
            or not (0 <= frequency <= 999_999)
        ):
            raise BadField(f"frequency must be 0-999999 kHz, got {frequency!r}")
        out += digits_field(f"{frequency:06d}", FREQUENCY_DIGITS, "frequency (kHz)")
        if alert:
            out += bytes([Tag.ALERT_ID, len(alert)]) + alert
        for tag, moment in ((Tag.START, self.start_unix), (Tag.END, self.end_unix)):
            if moment:
                out += bytes([tag, 4]) + uint32_field(moment, tag.name.lower())
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes, *, drill: bool) -> Emergency:
        reader = Reader(data, "drill packet" if drill else "emergency packet")
        first = reader.byte("start/stop, frequency switch and level")
        action = first >> 6
        if action not in (Action.START, Action.STOP):
            raise BadField(f"start/stop field is {action}: only 1 (start) and 2 (stop) exist")
        raw_event = reader.take(5, "event type")
        try:
            event_type = raw_event.decode("ascii")
            _event_type(event_type)
        except (UnicodeDecodeError, BadField):
            message = f"event type {raw_event.hex()} is not 5 ASCII letters or digits"
            raise BadField(message) from None
        ebmid = reader.digits(EBMID_DIGITS, "EBMID")
        frequency = int(reader.digits(FREQUENCY_DIGITS, "frequency"))
        values: dict[Tag, bytes] = {}
        while reader.left:
            tag = reader.byte("extension tag")
            value = reader.take(reader.byte("extension length"), "extension value")
            if tag not in Tag.__members__.values():
                continue  # a later version's extension: skipping it keeps old receivers working
            if Tag(tag) in values:
                raise BadField(f"extension 0x{tag:02X} appears twice")
            values[Tag(tag)] = value
        return cls(
            action=Action(action),
            ebmid=ebmid,
            event_type=event_type,
            level=first & 0x0F,
            frequency_khz=frequency,
            frequency_switch=(first >> 4) & 0x03,
            drill=drill,
            alert_id=_utf8(values.get(Tag.ALERT_ID, b"")),
            start_unix=_moment(values.get(Tag.START), "start"),
            end_unix=_moment(values.get(Tag.END), "end"),
        )


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadField(f"alert id is not UTF-8: {data.hex()}") from exc


def _moment(data: bytes | None, field: str) -> int:
    if data is None:
        return 0
    if len(data) != 4:
        raise BadField(f"{field} extension must be 4 bytes, got {len(data)}")
    return int.from_bytes(data, "big")


def _gb18030(text: str, field: str) -> bytes:
    try:
        return text.encode(TEXT_ENCODING)
    except UnicodeEncodeError as exc:
        raise BadField(f"{field} cannot be written in GB18030: {exc.reason}") from exc


TEXT_FIXED = 18 + 3 + 1 + 1 + 1  # EBMID, language, part, parts, title length


@dataclass(frozen=True)
class Text:
    """Type 15: EBMID (18) + language (3 ASCII, ISO 639-2) + part (1) + parts (1) + title
    length (1) + title + text, title and text in GB18030. Long texts are split over parts
    0..parts-1; only part 0 carries the title."""

    ebmid: str
    language: str
    title: str
    text: str
    part: int = 0
    parts: int = 1

    packet_type: ClassVar[PacketType] = PacketType.TEXT

    def to_bytes(self) -> bytes:
        language = self.language
        if not (len(language) == 3 and language.isascii() and language.isalpha()):
            raise BadField(f"language must be a 3-letter ISO 639-2 code, got {language!r}")
        if _small(self.parts, 8, "parts") < 1 or not 0 <= self.part < self.parts:
            raise BadField(f"text part {self.part} of {self.parts} does not exist")
        title = _gb18030(self.title, "title")
        if len(title) > 255:
            raise BadField(f"title is {len(title)} bytes in GB18030; at most 255 fit")
        return (
            digits_field(self.ebmid, EBMID_DIGITS, "EBMID")
            + language.encode("ascii")
            + bytes([self.part, self.parts, len(title)])
            + title
            + _gb18030(self.text, "text")
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Text:
        reader = Reader(data, "text packet")
        ebmid = reader.digits(EBMID_DIGITS, "EBMID")
        raw_language = reader.take(3, "language")
        language = raw_language.decode("latin-1")
        if not (language.isascii() and language.isalpha()):
            raise BadField(f"language {raw_language.hex()} is not 3 ASCII letters")
        part, parts = reader.byte("part"), reader.byte("parts")
        if not part < parts:
            raise BadField(f"text part {part} of {parts} does not exist")
        title = reader.take(reader.byte("title length"), "title")
        return cls(
            ebmid, language, _text(title, "title"), _text(reader.rest(), "text"), part, parts
        )


def _text(data: bytes, field: str) -> str:
    try:
        return data.decode(TEXT_ENCODING)
    except UnicodeDecodeError as exc:
        raise BadField(f"{field} is not GB18030: {exc.reason}") from exc


def split_text(ebmid: str, language: str, title: str, text: str, budget: int) -> tuple[Text, ...]:
    """The parts of one text, each body at most ``budget`` bytes, split between characters."""
    room = budget - TEXT_FIXED
    first_room = room - len(_gb18030(title, "title"))
    if first_room < 4 or room < 4:
        raise BadField(f"a text packet body of {budget} bytes leaves no room for the text")
    chunks: list[str] = []
    current, size = "", 0
    limit = first_room
    for char in text:
        width = len(_gb18030(char, "text"))  # 1, 2 or 4 bytes: never split inside one
        if size + width > limit:
            chunks.append(current)
            current, size, limit = "", 0, room
        current += char
        size += width
    chunks.append(current)
    if len(chunks) > 255:
        raise BadField(f"the text needs {len(chunks)} packets; at most 255 parts exist")
    return tuple(
        Text(ebmid, language, title if n == 0 else "", chunk, n, len(chunks))
        for n, chunk in enumerate(chunks)
    )


@dataclass(frozen=True)
class TimeSync:
    """Type 3: UTC UNIX seconds (4)."""

    utc: int

    packet_type: ClassVar[PacketType] = PacketType.TIME_SYNC

    def to_bytes(self) -> bytes:
        return uint32_field(self.utc, "time")

    @classmethod
    def from_bytes(cls, data: bytes) -> TimeSync:
        reader = Reader(data, "time-sync packet")
        utc = reader.uint32("time")
        reader.end()
        return cls(utc)


@dataclass(frozen=True)
class CertificateEntry:
    """Serial (6, BCD) + SM2 public key x||y (64) + not-after UNIX seconds (4, 0: no expiry)."""

    cert_sn: CertSN
    public_key: bytes
    not_after: int = 0

    SIZE: ClassVar[int] = 6 + 64 + 4

    def to_bytes(self) -> bytes:
        if len(self.public_key) != 64:
            raise BadField(f"public key must be 64 bytes x||y, got {len(self.public_key)}")
        return self.cert_sn.to_bcd() + self.public_key + uint32_field(self.not_after, "not-after")


@dataclass(frozen=True)
class Certificates:
    """Type 6: count (1, at least 1) + entries: keys receivers add to their trust anchors."""

    entries: tuple[CertificateEntry, ...]

    packet_type: ClassVar[PacketType] = PacketType.CERTIFICATES

    def to_bytes(self) -> bytes:
        if not 1 <= len(self.entries) <= 255:
            raise BadField(f"a certificate packet holds 1-255 entries, got {len(self.entries)}")
        return bytes([len(self.entries)]) + b"".join(e.to_bytes() for e in self.entries)

    @classmethod
    def from_bytes(cls, data: bytes) -> Certificates:
        reader = Reader(data, "certificate packet")
        count = reader.byte("count")
        if not count:
            raise BadField("a certificate packet with no certificate")
        entries = tuple(
            CertificateEntry(
                CertSN(reader.digits(12, "serial")),
                reader.take(64, "public key"),
                reader.uint32("not-after"),
            )
            for _ in range(count)
        )
        reader.end()
        return cls(entries)


@dataclass(frozen=True)
class Revocations:
    """Type 7: count (1, at least 1) + serials (6 each, BCD): certificates receivers revoke."""

    serials: tuple[CertSN, ...]

    packet_type: ClassVar[PacketType] = PacketType.REVOCATIONS

    def to_bytes(self) -> bytes:
        if not 1 <= len(self.serials) <= 255:
            raise BadField(f"a revocation packet holds 1-255 serials, got {len(self.serials)}")
        return bytes([len(self.serials)]) + b"".join(s.to_bcd() for s in self.serials)

    @classmethod
    def from_bytes(cls, data: bytes) -> Revocations:
        reader = Reader(data, "revocation packet")
        count = reader.byte("count")
        if not count:
            raise BadField("a revocation packet with no serial")
        serials = tuple(CertSN(reader.digits(12, "serial")) for _ in range(count))
        reader.end()
        return cls(serials)


@dataclass(frozen=True)
class StatusQuery:
    """Type 8: no body. The addressed receivers answer on their return path."""

    packet_type: ClassVar[PacketType] = PacketType.STATUS_QUERY

    def to_bytes(self) -> bytes:
        return b""

    @classmethod
    def from_bytes(cls, data: bytes) -> StatusQuery:
        Reader(data, "status-query packet").end()
        return cls()


Body = Emergency | Text | TimeSync | Certificates | Revocations | StatusQuery


_READERS: dict[int, Callable[[bytes], Body]] = {
    PacketType.TEXT: Text.from_bytes,
    PacketType.TIME_SYNC: TimeSync.from_bytes,
    PacketType.CERTIFICATES: Certificates.from_bytes,
    PacketType.REVOCATIONS: Revocations.from_bytes,
    PacketType.STATUS_QUERY: StatusQuery.from_bytes,
}
IMPLEMENTED = frozenset({PacketType.EMERGENCY, PacketType.DRILL, *_READERS})


def check_type(packet_type: int) -> None:
    """UnknownType unless this decoder reads ``packet_type``: checked before any other field,
    since the layout after the header is the type's."""
    if packet_type in IMPLEMENTED:
        return
    if packet_type in PacketType.__members__.values():
        name = PacketType(packet_type).name.lower().replace("_", " ")
        raise UnknownType(f"packet type {packet_type} ({name}) is not implemented here")
    raise UnknownType(f"packet type {packet_type} is not defined")


def decode_body(packet_type: int, data: bytes) -> Body:
    check_type(packet_type)
    if packet_type in (PacketType.EMERGENCY, PacketType.DRILL):
        return Emergency.from_bytes(data, drill=packet_type == PacketType.DRILL)
    return _READERS[packet_type](data)
