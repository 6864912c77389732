"""The 74-byte bearer signature block of GY/T 389 and its framed form.

    block  = signed_at (4, UTC seconds, big-endian) + cert SN (6, BCD) + r||s (64)
    frame  = length 0x004A (2, big-endian) + block (74) + CRC32 (4, big-endian)

The signed bytes are the payload followed by the same 4-byte time, so the time cannot be
changed without breaking the signature. The frame's CRC is CRC-32/MPEG-2 (poly 0x04C11DB7,
init 0xFFFFFFFF, not reflected, no final XOR): the CRC every MPEG-2 TS section already ends
with, so bearers need one CRC routine. It covers the length field and the block (76 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from protocols.codes import CertSN
from protocols.errors import BinaryFormatError, CodeError
from signing.errors import SignatureError, SignatureInvalid
from signing.signer import Signer
from signing.sm2 import SM2PublicKey, verify
from signing.trust import TrustEntry, TrustStore

BLOCK_LENGTH = 74
FRAME_LENGTH = 2 + BLOCK_LENGTH + 4
_MAX_TIME = 0xFFFFFFFF


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc32_mpeg2(data: bytes, crc: int = 0xFFFFFFFF) -> int:
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[(crc >> 24) ^ byte]
    return crc


def signed_message(payload: bytes, signed_at: int) -> bytes:
    """payload + 4-byte big-endian signed-at: what the bearer block and HTTP header model sign."""
    if not isinstance(signed_at, int) or not 0 <= signed_at <= _MAX_TIME:
        raise SignatureError(
            f"signed-at must be UNIX seconds in 0..{_MAX_TIME}, got {signed_at!r}",
            code="invalid-time",
        )
    return bytes(payload) + signed_at.to_bytes(4, "big")


@dataclass(frozen=True)
class SignatureBlock:
    signed_at: int
    cert_sn: CertSN
    signature: bytes

    def __post_init__(self) -> None:
        if isinstance(self.cert_sn, str):
            object.__setattr__(self, "cert_sn", CertSN(self.cert_sn))
        if not isinstance(self.signed_at, int) or not 0 <= self.signed_at <= _MAX_TIME:
            raise BinaryFormatError(
                f"signature block time must fit 4 bytes, got {self.signed_at!r}"
            )
        if not isinstance(self.signature, bytes) or len(self.signature) != 64:
            raise BinaryFormatError("signature block needs a 64-byte r||s signature")

    def to_bytes(self) -> bytes:
        return self.signed_at.to_bytes(4, "big") + self.cert_sn.to_bcd() + self.signature

    @classmethod
    def from_bytes(cls, data: bytes) -> SignatureBlock:
        if len(data) != BLOCK_LENGTH:
            raise BinaryFormatError(
                f"signature block must be {BLOCK_LENGTH} bytes, got {len(data)}"
            )
        try:
            cert_sn = CertSN.from_bcd(bytes(data[4:10]))
        except CodeError as exc:
            raise BinaryFormatError(f"signature block cert SN: {exc.message}") from exc
        return cls(int.from_bytes(data[:4], "big"), cert_sn, bytes(data[10:]))

    @property
    def signed_at_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.signed_at, UTC)


def sign_payload(payload: bytes, signer: Signer, signed_at: int) -> SignatureBlock:
    signature = signer.sign(signed_message(payload, signed_at))
    return SignatureBlock(signed_at, signer.cert_sn, signature)


def verify_payload(payload: bytes, block: SignatureBlock, public_key: SM2PublicKey) -> bool:
    """Only the signature; the certificate and the time are the caller's (see ``check_payload``)."""
    return verify(public_key, signed_message(payload, block.signed_at), block.signature)


def check_payload(
    payload: bytes, block: SignatureBlock, trust: TrustStore, *, at: datetime
) -> TrustEntry:
    """Certificate known, valid at ``at`` and the signature matching, or a SignatureError.

    Freshness and replay are left to the caller: they need a clock and per-sender state.
    """
    entry = trust.require_valid(block.cert_sn, at=at)
    if not verify_payload(payload, block, entry.public_key):
        raise SignatureInvalid(
            f"bearer signature does not verify with certificate {block.cert_sn.value}"
        )
    return entry


def frame(block: SignatureBlock) -> bytes:
    body = BLOCK_LENGTH.to_bytes(2, "big") + block.to_bytes()
    return body + crc32_mpeg2(body).to_bytes(4, "big")


def unframe(data: bytes) -> SignatureBlock:
    if len(data) != FRAME_LENGTH:
        raise BinaryFormatError(f"signature frame must be {FRAME_LENGTH} bytes, got {len(data)}")
    length = int.from_bytes(data[:2], "big")
    if length != BLOCK_LENGTH:
        raise BinaryFormatError(
            f"signature length field is 0x{length:04X}; expected 0x{BLOCK_LENGTH:04X}"
        )
    expected = crc32_mpeg2(data[:-4])
    found = int.from_bytes(data[-4:], "big")
    if expected != found:
        raise BinaryFormatError(
            f"signature frame CRC32 is 0x{found:08X}; computed 0x{expected:08X}", code="bad-crc"
        )
    return SignatureBlock.from_bytes(data[2:-4])
