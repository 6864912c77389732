"""A strict DER reader and writer for the handful of structures SM2 keys and signatures use.

Strict means: definite, minimal lengths; low tag numbers only; minimal non-negative INTEGERs;
no trailing bytes. Anything a BER encoder might emit but DER forbids is refused, so two
encodings of one key can never both be accepted. Errors are ``DerError``; callers turn them into
the domain error (bad key, bad signature) with context.
"""

from __future__ import annotations

from dataclasses import dataclass

INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
OID = 0x06
SEQUENCE = 0x30
CONTEXT_0 = 0xA0
CONTEXT_1 = 0xA1

_TAG_NAMES = {
    INTEGER: "INTEGER",
    BIT_STRING: "BIT STRING",
    OCTET_STRING: "OCTET STRING",
    OID: "OBJECT IDENTIFIER",
    SEQUENCE: "SEQUENCE",
    CONTEXT_0: "[0]",
    CONTEXT_1: "[1]",
}


class DerError(ValueError):
    pass


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes

    def expect(self, tag: int, what: str) -> bytes:
        if self.tag != tag:
            raise DerError(f"{what}: expected {tag_name(tag)}, found {tag_name(self.tag)}")
        return self.value


def tag_name(tag: int) -> str:
    return _TAG_NAMES.get(tag, f"tag 0x{tag:02x}")


def _read(data: bytes, pos: int) -> tuple[Tlv, int]:
    if pos + 2 > len(data):
        raise DerError("truncated: a tag and length need 2 bytes")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag numbers are not used by SM2 keys")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DerError("indefinite length is BER, not DER")
    else:
        count = first & 0x7F
        if count > 4 or pos + count > len(data):
            raise DerError("truncated or oversized length field")
        length = int.from_bytes(data[pos : pos + count], "big")
        if data[pos] == 0 or length < 0x80:
            raise DerError("length is not minimally encoded")
        pos += count
    if pos + length > len(data):
        raise DerError(f"truncated: {tag_name(tag)} claims {length} bytes, {len(data) - pos} left")
    return Tlv(tag, data[pos : pos + length]), pos + length


def read_one(data: bytes) -> Tlv:
    """The single TLV that ``data`` must consist of exactly."""
    tlv, end = _read(data, 0)
    if end != len(data):
        raise DerError(f"{len(data) - end} trailing byte(s) after the {tag_name(tlv.tag)}")
    return tlv


def read_all(content: bytes) -> list[Tlv]:
    """The TLVs that fill a constructed value's content."""
    items: list[Tlv] = []
    pos = 0
    while pos < len(content):
        tlv, pos = _read(content, pos)
        items.append(tlv)
    return items


def decode_uint(value: bytes, what: str) -> int:
    if not value:
        raise DerError(f"{what}: empty INTEGER")
    if value[0] & 0x80:
        raise DerError(f"{what}: negative INTEGER")
    if len(value) > 1 and value[0] == 0 and not value[1] & 0x80:
        raise DerError(f"{what}: INTEGER has a redundant leading zero")
    return int.from_bytes(value, "big")


def decode_oid(value: bytes) -> str:
    if not value or value[-1] & 0x80:
        raise DerError("malformed OBJECT IDENTIFIER")
    arcs: list[int] = []
    current = 0
    fresh = True
    for byte in value:
        if fresh and byte == 0x80:
            raise DerError("OBJECT IDENTIFIER arc has a redundant leading byte")
        current = (current << 7) | (byte & 0x7F)
        fresh = not byte & 0x80
        if fresh:
            arcs.append(current)
            current = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in (first, arcs[0] - 40 * first, *arcs[1:]))


def encode(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(raw))) + raw + content


def encode_uint(number: int) -> bytes:
    if number < 0:
        raise ValueError("DER helper only encodes non-negative integers")
    raw = number.to_bytes(number.bit_length() // 8 + 1, "big")
    return encode(INTEGER, raw)


def encode_oid(dotted: str) -> bytes:
    arcs = [int(part) for part in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return encode(OID, bytes(body))


def encode_signature(r: int, s: int) -> bytes:
    """SEQUENCE { r INTEGER, s INTEGER }: the SM2 signature layout of GM/T 0009."""
    return encode(SEQUENCE, encode_uint(r) + encode_uint(s))


def decode_signature(data: bytes) -> tuple[int, int]:
    items = read_all(read_one(data).expect(SEQUENCE, "signature"))
    if len(items) != 2:
        raise DerError(f"signature SEQUENCE must hold r and s, found {len(items)} element(s)")
    r = decode_uint(items[0].expect(INTEGER, "signature r"), "signature r")
    s = decode_uint(items[1].expect(INTEGER, "signature s"), "signature s")
    return r, s
