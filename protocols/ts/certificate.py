"""Table 0xFC, certificate authorisation: the certificates terminals may verify with.
Section body (layout unconfirmed):

    certificate_count           8
    per certificate:
      cert_sn                  48   12 BCD digits, as in the signature block
      revoked 1, reserved 7          1: stop trusting this serial
      not_after                40   MJD + BCD; all ones: no expiry
      public_key_length         8   64
      public_key              512   SM2 point x||y

A terminal takes this table only when its own signature verifies with a key it already
trusts: the table extends trust, it cannot found it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from protocols.ts.errors import BadField
from protocols.ts.fields import (
    CERT_SN_BYTES,
    CERT_SN_DIGITS,
    TIME_BYTES,
    Reader,
    decode_digits,
    decode_time,
    encode_digits,
    encode_time,
)
from protocols.ts.section import MAX_BODY_BYTES, Section, SignFn, build_table, split_items

TABLE_ID = 0xFC
KEY_BYTES = 64


@dataclass(frozen=True)
class CertificateItem:
    cert_sn: str
    public_key: bytes
    not_after: dt.datetime | None = None
    revoked: bool = False

    def to_bytes(self) -> bytes:
        if len(self.public_key) != KEY_BYTES:
            raise BadField(
                f"public key must be {KEY_BYTES} bytes (x||y), got {len(self.public_key)}"
            )
        return (
            encode_digits(self.cert_sn, CERT_SN_DIGITS, "cert_sn")
            + bytes([0x7F | (0x80 if self.revoked else 0)])
            + encode_time(self.not_after)
            + bytes([KEY_BYTES])
            + bytes(self.public_key)
        )

    @classmethod
    def read(cls, r: Reader) -> CertificateItem:
        sn = decode_digits(r.take(CERT_SN_BYTES, "cert_sn"), CERT_SN_DIGITS, "cert_sn")
        flags = r.uint(1, "flags")
        not_after = decode_time(r.take(TIME_BYTES, "not_after"), "not_after")
        length = r.uint(1, "public_key_length")
        if length != KEY_BYTES:
            raise BadField(f"certificate {sn}: public key length {length}, expected {KEY_BYTES}")
        return cls(sn, r.take(length, "public_key"), not_after, bool(flags & 0x80))


@dataclass(frozen=True)
class Certificates:
    items: tuple[CertificateItem, ...] = ()


def encode_certificates(
    table: Certificates, *, version: int, sign: SignFn, extension: int = 0
) -> list[bytes]:
    groups = split_items([c.to_bytes() for c in table.items], MAX_BODY_BYTES - 1, "certificate")
    return build_table(
        TABLE_ID, extension, version, [bytes([len(g)]) + b"".join(g) for g in groups], sign
    )


def decode_certificates(section: Section) -> Certificates:
    if section.header.table_id != TABLE_ID:
        raise BadField(f"table 0x{section.header.table_id:02X} is not a certificate table")
    r = Reader(section.body, "certificates")
    items = tuple(CertificateItem.read(r) for _ in range(r.uint(1, "certificate_count")))
    r.expect_end()
    return Certificates(items)
