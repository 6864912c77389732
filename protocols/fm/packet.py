"""One FM packet: header, resource codes, body, the GY/T 389 signature block and a CRC32.

    offset  size   field
    0       5 bit  packet type (PacketType)
    0       11 bit length: the number of bytes after these two (so the packet is length + 2)
    2       1      resource-code count n (0: every receiver hearing the station)
    3       12*n   resource codes: 23 digits each as BCD behind a 0xF pad nibble
    3+12n   ...    body (bodies.py)
    -78     74     signature block: signed-at (4, UTC seconds) + cert SN (6, BCD) + r||s (64)
    -4      4      CRC-32/MPEG-2 over every byte before it

The signed bytes are the payload (type/length word through the last body byte, i.e. the packet
before the block) followed by the block's own 4-byte signed-at: GY/T 389's bearer rule, so the
time cannot be changed without breaking the signature. The CRC is the only check the group text
form carries (it has no RDS checkwords); it covers the block too, so a bit error anywhere is
reported as ``bad-crc`` before any signature is computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from protocols.codes import CertSN, ResourceCode
from protocols.errors import CodeError
from protocols.fm._wire import Reader
from protocols.fm.bodies import Body, PacketType, check_type, decode_body
from protocols.fm.crc import crc32_mpeg2
from protocols.fm.errors import BadBcd, BadCrc, BadField, BadSignature, Truncated

CODE_SIZE = 12
BLOCK_SIZE = 74
CRC_SIZE = 4
MAX_LENGTH = 0x7FF
MAX_PACKET = 2 + MAX_LENGTH
MIN_PACKET = 2 + 1 + BLOCK_SIZE + CRC_SIZE
MAX_CODES = (MAX_LENGTH - 1 - BLOCK_SIZE - CRC_SIZE) // CODE_SIZE

#: payload -> the 74-byte signature block over it (see ``seal_with``).
Sealer = Callable[[bytes], bytes]
#: (payload, 74-byte block) -> whether the signature holds.
Verifier = Callable[[bytes, bytes], bool]


@dataclass(frozen=True)
class SignatureFields:
    """The block's three fields; ``signing.block.SignatureBlock`` is the same layout."""

    signed_at: int
    cert_sn: CertSN
    signature: bytes

    def to_bytes(self) -> bytes:
        return self.signed_at.to_bytes(4, "big") + self.cert_sn.to_bcd() + self.signature

    @classmethod
    def from_bytes(cls, data: bytes) -> SignatureFields:
        reader = Reader(data, "signature block")
        signed_at = reader.uint32("signed-at")
        serial = reader.digits(12, "certificate serial")
        return cls(signed_at, CertSN(serial), reader.take(64, "signature"))


def signed_message(payload: bytes, signed_at: int) -> bytes:
    return payload + signed_at.to_bytes(4, "big")


def seal_with(sign: Callable[[bytes], bytes], cert_sn: CertSN, signed_at: int) -> Sealer:
    """A Sealer from a message signer (64-byte r||s over the bytes it is given)."""

    def seal(payload: bytes) -> bytes:
        signature = sign(signed_message(payload, signed_at))
        return SignatureFields(signed_at, cert_sn, signature).to_bytes()

    return seal


def body_budget(code_count: int) -> int:
    """The most body bytes a packet addressed to ``code_count`` codes can hold."""
    return MAX_LENGTH - 1 - CODE_SIZE * code_count - BLOCK_SIZE - CRC_SIZE


@dataclass(frozen=True)
class Packet:
    codes: tuple[ResourceCode, ...]
    body: Body

    @property
    def packet_type(self) -> PacketType:
        return self.body.packet_type

    def payload(self) -> bytes:
        """The bytes the signature covers (before the block's time is appended)."""
        if len(self.codes) > MAX_CODES:
            raise BadField(f"{len(self.codes)} resource codes do not fit; at most {MAX_CODES}")
        body = self.body.to_bytes()
        length = 1 + CODE_SIZE * len(self.codes) + len(body) + BLOCK_SIZE + CRC_SIZE
        if length > MAX_LENGTH:
            raise BadField(
                f"packet would be {length + 2} bytes; the 11-bit length allows {MAX_PACKET}"
            )
        header = (int(self.packet_type) << 11 | length).to_bytes(2, "big")
        codes = b"".join(code.to_bcd() for code in self.codes)
        return header + bytes([len(self.codes)]) + codes + body


def encode_packet(packet: Packet, seal: Sealer) -> bytes:
    payload = packet.payload()
    block = seal(payload)
    if len(block) != BLOCK_SIZE:
        raise ValueError(f"the sealer returned {len(block)} bytes; a block is {BLOCK_SIZE}")
    data = payload + block
    return data + crc32_mpeg2(data).to_bytes(CRC_SIZE, "big")


@dataclass(frozen=True)
class SignedPacket:
    """A decoded packet with the exact bytes its signature and CRC were computed over."""

    packet: Packet
    payload: bytes
    block: bytes
    raw: bytes

    @property
    def seal(self) -> SignatureFields:
        return SignatureFields.from_bytes(self.block)

    @property
    def signed_message(self) -> bytes:
        return self.payload + self.block[:4]


def decode_packet(data: bytes, *, verify: Verifier | None = None) -> SignedPacket:
    """Check length, CRC, type and every field; with ``verify``, the signature as well."""
    data = bytes(data)
    if len(data) < 2:
        raise Truncated(f"a packet needs at least {MIN_PACKET} bytes, got {len(data)}")
    word = int.from_bytes(data[:2], "big")
    packet_type, total = word >> 11, 2 + (word & MAX_LENGTH)
    if total > len(data):
        raise Truncated(f"length field says {total} bytes, only {len(data)} arrived")
    if total < len(data):
        raise BadField(f"length field says {total} bytes, {len(data)} arrived")
    if total < MIN_PACKET:
        raise Truncated(f"length field says {total} bytes; a packet needs at least {MIN_PACKET}")
    expected, found = crc32_mpeg2(data[:-CRC_SIZE]), int.from_bytes(data[-CRC_SIZE:], "big")
    if expected != found:
        raise BadCrc(f"packet CRC32 is 0x{found:08X}; computed 0x{expected:08X}")
    check_type(packet_type)
    payload, block = data[: -CRC_SIZE - BLOCK_SIZE], data[-CRC_SIZE - BLOCK_SIZE : -CRC_SIZE]
    reader = Reader(payload[2:], f"type {packet_type} packet")
    count = reader.byte("resource-code count")
    codes = tuple(_code(reader.take(CODE_SIZE, f"resource code {n + 1}")) for n in range(count))
    body = decode_body(packet_type, reader.rest())
    SignatureFields.from_bytes(block)
    if verify is not None and not verify(payload, block):
        raise BadSignature(f"the signature of this type {packet_type} packet does not verify")
    return SignedPacket(Packet(codes, body), payload, block, data)


def _code(data: bytes) -> ResourceCode:
    try:
        return ResourceCode.from_bcd(data)
    except CodeError as exc:
        raise BadBcd(f"resource code {data.hex()}: {exc.message}") from exc
