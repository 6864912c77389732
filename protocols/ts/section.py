"""The MPEG-2 long-form private section every EB table travels in, with its signature trailer.

    table_id                  8
    section_syntax_indicator  1   always 1
    private_indicator         1   1 (user private)
    reserved                  2   11
    section_length           12   bytes after this field, CRC included; total <= 4096
    table_id_extension       16
    reserved                  2   11
    version_number            5
    current_next_indicator    1
    section_number            8
    last_section_number       8
    body                      N   the table's own fields
    signature_length         16   0x004A
    signature_block         592   74 bytes: signed_at (4) + cert SN (6, BCD) + SM2 r||s (64)
    CRC_32                   32   CRC-32/MPEG-2 over the whole section

The trailer has the shape of signing.block's frame, but its CRC is the section's own CRC, which
covers the frame as well: one CRC, not two (docs/ts-signalling.md, "signature trailer").
The signed bytes are everything before signature_length (header with its final length, then
the body), followed by signed_at, as GY/T 389 prescribes for bearer blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from protocols.ts.crc import crc32_mpeg2
from protocols.ts.errors import BadCrc, BadField, BadSignature, TooLong, Truncated
from protocols.ts.fields import CERT_SN_BYTES, CERT_SN_DIGITS, decode_digits

HEADER_BYTES = 8
SIGNATURE_LENGTH = 0x004A
BLOCK_BYTES = 74
TRAILER_BYTES = 2 + BLOCK_BYTES + 4
MAX_SECTION_BYTES = 4096
MAX_BODY_BYTES = MAX_SECTION_BYTES - HEADER_BYTES - TRAILER_BYTES
MIN_SECTION_BYTES = HEADER_BYTES + TRAILER_BYTES

#: payload -> the 74-byte signature block over payload || signed_at (signing.block builds it).
SignFn = Callable[[bytes], bytes]
#: (payload, 74-byte block) -> whether the signature holds; it may raise its own errors too.
VerifyFn = Callable[[bytes, bytes], bool]


@dataclass(frozen=True)
class SectionHeader:
    table_id: int
    table_id_extension: int
    version: int
    section_number: int = 0
    last_section_number: int = 0
    current_next: bool = True
    private_indicator: bool = True

    def __post_init__(self) -> None:
        _range("table_id", self.table_id, 0xFF)
        _range("table_id_extension", self.table_id_extension, 0xFFFF)
        _range("version_number", self.version, 31)
        _range("section_number", self.section_number, 0xFF)
        _range("last_section_number", self.last_section_number, 0xFF)
        if self.section_number > self.last_section_number:
            raise BadField(
                f"section_number {self.section_number} is above "
                f"last_section_number {self.last_section_number}"
            )


@dataclass(frozen=True)
class SignatureInfo:
    """The 74-byte block read without the signing package: time, serial, raw r||s."""

    signed_at: int
    cert_sn: str
    signature: bytes

    @classmethod
    def from_block(cls, block: bytes) -> SignatureInfo:
        if len(block) != BLOCK_BYTES:
            raise Truncated(f"signature block needs {BLOCK_BYTES} bytes, got {len(block)}")
        cert_sn = decode_digits(block[4 : 4 + CERT_SN_BYTES], CERT_SN_DIGITS, "signature cert SN")
        return cls(int.from_bytes(block[:4], "big"), cert_sn, bytes(block[4 + CERT_SN_BYTES :]))


@dataclass(frozen=True)
class Section:
    header: SectionHeader
    body: bytes
    block: bytes
    raw: bytes

    @property
    def payload(self) -> bytes:
        """The signed bytes (signed_at is appended by the signature scheme, not stored here)."""
        return self.raw[: HEADER_BYTES + len(self.body)]

    @property
    def signature(self) -> SignatureInfo:
        return SignatureInfo.from_block(self.block)


def _range(name: str, value: int, top: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise BadField(f"{name} must be 0..{top}, got {value!r}")


def build_section(header: SectionHeader, body: bytes, sign: SignFn) -> bytes:
    if len(body) > MAX_BODY_BYTES:
        raise TooLong(f"section body of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
    section_length = HEADER_BYTES - 3 + len(body) + TRAILER_BYTES
    flags = 0x80 | (0x40 if header.private_indicator else 0) | 0x30
    head = bytes(
        [
            header.table_id,
            flags | (section_length >> 8),
            section_length & 0xFF,
            header.table_id_extension >> 8,
            header.table_id_extension & 0xFF,
            0xC0 | (header.version << 1) | int(header.current_next),
            header.section_number,
            header.last_section_number,
        ]
    )
    payload = head + bytes(body)
    block = bytes(sign(payload))
    if len(block) != BLOCK_BYTES:
        raise BadField(f"the signer returned {len(block)} bytes; a block is {BLOCK_BYTES}")
    unsealed = payload + SIGNATURE_LENGTH.to_bytes(2, "big") + block
    return unsealed + crc32_mpeg2(unsealed).to_bytes(4, "big")


def section_total(head: bytes) -> int:
    """Total bytes of the section whose first three bytes are ``head``."""
    return 3 + (((head[1] & 0x0F) << 8) | head[2])


def parse_section(data: bytes, *, verify: VerifyFn | None = None) -> Section:
    """Header, body and signature block of one complete section; CRC always checked, the
    signature when ``verify`` is given."""
    raw = bytes(data)
    if len(raw) < 3:
        raise Truncated(f"a section needs at least 3 bytes, got {len(raw)}")
    total = section_total(raw)
    if total > MAX_SECTION_BYTES:
        raise BadField(f"section_length says {total} bytes; private sections stop at 4096")
    if len(raw) < total:
        raise Truncated(f"section_length says {total} bytes, only {len(raw)} present")
    if len(raw) > total:
        raise BadField(f"{len(raw) - total} bytes follow the section's CRC")
    if total < MIN_SECTION_BYTES:
        raise Truncated(f"{total} bytes cannot hold a header and a signature trailer")
    found = int.from_bytes(raw[-4:], "big")
    expected = crc32_mpeg2(raw[:-4])
    if found != expected:
        raise BadCrc(f"section CRC32 is 0x{found:08X}; computed 0x{expected:08X}")
    if not raw[1] & 0x80:
        raise BadField("section_syntax_indicator is 0: not a long-form section")
    header = SectionHeader(
        table_id=raw[0],
        table_id_extension=int.from_bytes(raw[3:5], "big"),
        version=(raw[5] >> 1) & 0x1F,
        current_next=bool(raw[5] & 1),
        section_number=raw[6],
        last_section_number=raw[7],
        private_indicator=bool(raw[1] & 0x40),
    )
    trailer = raw[-TRAILER_BYTES:]
    length = int.from_bytes(trailer[:2], "big")
    if length != SIGNATURE_LENGTH:
        raise BadField(f"signature_length is 0x{length:04X}; expected 0x{SIGNATURE_LENGTH:04X}")
    section = Section(header, raw[HEADER_BYTES:-TRAILER_BYTES], trailer[2:-4], raw)
    section.signature  # noqa: B018 - a bad cert SN is refused here, before anyone trusts it
    if verify is not None and not verify(section.payload, section.block):
        raise BadSignature(
            f"table 0x{header.table_id:02X} section {header.section_number}: signature refused"
        )
    return section


def split_items(
    items: list[bytes], room: int, what: str, max_count: int = 255
) -> list[list[bytes]]:
    """Greedy groups of whole items that each fit ``room`` bytes; never empty (an empty table
    is still one section)."""
    groups: list[list[bytes]] = [[]]
    size = 0
    for item in items:
        if len(item) > room:
            raise TooLong(f"{what} of {len(item)} bytes cannot fit one section ({room} bytes)")
        if groups[-1] and (size + len(item) > room or len(groups[-1]) >= max_count):
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += len(item)
    return groups


def build_table(
    table_id: int, extension: int, version: int, bodies: list[bytes], sign: SignFn
) -> list[bytes]:
    if not 1 <= len(bodies) <= 256:
        raise TooLong(f"a table holds 1..256 sections, this one needs {len(bodies)}")
    last = len(bodies) - 1
    return [
        build_section(SectionHeader(table_id, extension, version, n, last), body, sign)
        for n, body in enumerate(bodies)
    ]
