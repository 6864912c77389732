"""SM2 key files: PEM armour, PKCS#8 and SEC1 private keys, SubjectPublicKeyInfo public keys.

The layouts are the ones OpenSSL 3 and GmSSL 3 write (RFC 5208/5915/5480 with the SM2 curve):

    PKCS#8      SEQUENCE { 0, SEQUENCE { id-ecPublicKey, sm2 }, OCTET STRING { ECPrivateKey } }
    SEC1        ECPrivateKey = SEQUENCE { 1, OCTET STRING d, [0] sm2 OPTIONAL, [1] BIT STRING Q }
    SPKI        SEQUENCE { SEQUENCE { id-ecPublicKey, sm2 }, BIT STRING 04||x||y }

Encoding is deterministic, so ``openssl pkey -pubout`` reproduces our public.pem byte for byte.
Every refusal raises KeyFormatError saying what was found instead of an SM2 key.
"""

from __future__ import annotations

import base64
import binascii
import re

from signing import der
from signing.curve import decompress, on_curve
from signing.errors import KeyFormatError

OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_SM2 = "1.2.156.10197.1.301"
_KNOWN_OIDS = {
    "1.2.840.10045.3.1.7": "NIST P-256 (prime256v1)",
    "1.3.132.0.34": "NIST P-384",
    "1.3.132.0.35": "NIST P-521",
    "1.3.132.0.10": "secp256k1",
    "1.2.840.113549.1.1.1": "RSA",
    "1.3.101.112": "Ed25519",
    "1.3.101.110": "X25519",
    "1.2.840.10040.4.1": "DSA",
}
_ALGORITHM = der.encode(der.SEQUENCE, der.encode_oid(OID_EC_PUBLIC_KEY) + der.encode_oid(OID_SM2))

PRIVATE_LABELS = ("PRIVATE KEY", "EC PRIVATE KEY", "SM2 PRIVATE KEY")
PUBLIC_LABEL = "PUBLIC KEY"
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END ([A-Z0-9 ]+)-----", re.DOTALL)


def describe_oid(oid: str) -> str:
    name = _KNOWN_OIDS.get(oid)
    return f"{oid} ({name})" if name else oid


def pem_decode(data: bytes | str, labels: tuple[str, ...]) -> tuple[str, bytes]:
    """(label, DER) of the one PEM block in ``data`` whose label is one of ``labels``."""
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    blocks = _PEM.findall(text)
    if not blocks:
        raise KeyFormatError("not a PEM file: no -----BEGIN ...----- block found")
    if len(blocks) > 1:
        raise KeyFormatError(f"PEM file holds {len(blocks)} blocks; expected exactly one key")
    label, body, end_label = blocks[0]
    if label != end_label:
        raise KeyFormatError(f"PEM block BEGIN {label} ends with END {end_label}")
    if label == "ENCRYPTED PRIVATE KEY":
        raise KeyFormatError(
            "encrypted private keys are not supported; decrypt first "
            "(openssl pkcs8 -in key.pem -out plain.pem)"
        )
    if label not in labels:
        raise KeyFormatError(f"PEM block is {label!r}; expected {' or '.join(map(repr, labels))}")
    try:
        raw = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError(f"PEM {label} body is not valid base64: {exc}") from exc
    return label, raw


def pem_encode(label: str, raw: bytes) -> bytes:
    body = base64.b64encode(raw).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]).encode()


def pem_label(data: bytes | str) -> str | None:
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    match = _PEM.search(text)
    return match.group(1) if match else None


def point_from_octets(octets: bytes, what: str) -> bytes:
    if len(octets) == 65 and octets[0] == 0x04:
        point = octets[1:]
        if not on_curve(int.from_bytes(point[:32], "big"), int.from_bytes(point[32:], "big")):
            raise KeyFormatError(f"{what}: the point is not on the SM2 curve")
        return point
    if len(octets) == 33 and octets[0] in (0x02, 0x03):
        point_or_none = decompress(octets[0], int.from_bytes(octets[1:], "big"))
        if point_or_none is None:
            raise KeyFormatError(f"{what}: the compressed point is not on the SM2 curve")
        return point_or_none
    raise KeyFormatError(
        f"{what}: expected an uncompressed (65-byte, 04...) or compressed (33-byte) point, "
        f"got {len(octets)} bytes"
    )


def _bit_string_point(tlv: der.Tlv, what: str) -> bytes:
    value = tlv.expect(der.BIT_STRING, what)
    if not value or value[0] != 0:
        raise KeyFormatError(f"{what}: BIT STRING must have 0 unused bits")
    return point_from_octets(value[1:], what)


def _check_algorithm(tlv: der.Tlv) -> None:
    items = der.read_all(tlv.expect(der.SEQUENCE, "algorithm identifier"))
    if not items:
        raise KeyFormatError("algorithm identifier is empty")
    algorithm = der.decode_oid(items[0].expect(der.OID, "key algorithm"))
    if algorithm != OID_EC_PUBLIC_KEY:
        raise KeyFormatError(
            f"key algorithm is {describe_oid(algorithm)}, not an elliptic-curve key "
            f"({OID_EC_PUBLIC_KEY}) on SM2"
        )
    if len(items) != 2:
        raise KeyFormatError("EC key algorithm must name exactly one curve")
    _check_curve(items[1])


def _check_curve(tlv: der.Tlv) -> None:
    if tlv.tag == der.SEQUENCE:
        raise KeyFormatError("explicit curve parameters are not supported; use the named SM2 curve")
    curve = der.decode_oid(tlv.expect(der.OID, "curve"))
    if curve != OID_SM2:
        raise KeyFormatError(f"key curve is {describe_oid(curve)}, not SM2 ({OID_SM2})")


def _ec_private_key(content: bytes, *, curve_required: bool) -> tuple[bytes, bytes | None]:
    items = der.read_all(der.read_one(content).expect(der.SEQUENCE, "ECPrivateKey"))
    if len(items) < 2:
        raise KeyFormatError("ECPrivateKey needs a version and a private key")
    if der.decode_uint(items[0].expect(der.INTEGER, "ECPrivateKey version"), "version") != 1:
        raise KeyFormatError("ECPrivateKey version must be 1")
    secret = items[1].expect(der.OCTET_STRING, "private key")
    if not 1 <= len(secret) <= 32:
        raise KeyFormatError(f"SM2 private key must be 32 bytes, got {len(secret)}")
    rest = items[2:]
    if rest and rest[0].tag == der.CONTEXT_0:
        _check_curve(der.read_one(rest[0].value))
        rest = rest[1:]
    elif curve_required:
        raise KeyFormatError("EC PRIVATE KEY does not name its curve, so it cannot be SM2")
    point = None
    if rest and rest[0].tag == der.CONTEXT_1:
        point = _bit_string_point(der.read_one(rest[0].value), "embedded public key")
        rest = rest[1:]
    if rest:
        raise KeyFormatError(f"unexpected {der.tag_name(rest[0].tag)} in ECPrivateKey")
    return secret.rjust(32, b"\x00"), point


def decode_private(label: str, raw: bytes) -> tuple[bytes, bytes | None]:
    """(scalar, embedded point or None) from a PKCS#8 or SEC1 DER private key."""
    try:
        if label != "PRIVATE KEY":
            return _ec_private_key(raw, curve_required=True)
        items = der.read_all(der.read_one(raw).expect(der.SEQUENCE, "PKCS#8 PrivateKeyInfo"))
        if len(items) != 3:
            raise KeyFormatError(
                f"PKCS#8 PrivateKeyInfo must hold version, algorithm and key; found {len(items)}"
            )
        if der.decode_uint(items[0].expect(der.INTEGER, "PKCS#8 version"), "version") != 0:
            raise KeyFormatError("PKCS#8 version must be 0")
        _check_algorithm(items[1])
        return _ec_private_key(
            items[2].expect(der.OCTET_STRING, "PKCS#8 private key"), curve_required=False
        )
    except der.DerError as exc:
        raise KeyFormatError(f"private key DER is malformed: {exc}") from exc


def decode_public(raw: bytes) -> bytes:
    try:
        items = der.read_all(der.read_one(raw).expect(der.SEQUENCE, "SubjectPublicKeyInfo"))
        if len(items) != 2:
            raise KeyFormatError(
                f"SubjectPublicKeyInfo must hold algorithm and key; found {len(items)} elements"
            )
        _check_algorithm(items[0])
        return _bit_string_point(items[1], "public key")
    except der.DerError as exc:
        raise KeyFormatError(f"public key DER is malformed: {exc}") from exc


def encode_public(point: bytes) -> bytes:
    return der.encode(der.SEQUENCE, _ALGORITHM + der.encode(der.BIT_STRING, b"\x00\x04" + point))


def encode_private(scalar: bytes, point: bytes) -> bytes:
    ec_key = der.encode(
        der.SEQUENCE,
        der.encode_uint(1)
        + der.encode(der.OCTET_STRING, scalar)
        + der.encode(der.CONTEXT_1, der.encode(der.BIT_STRING, b"\x00\x04" + point)),
    )
    return der.encode(
        der.SEQUENCE, der.encode_uint(0) + _ALGORITHM + der.encode(der.OCTET_STRING, ec_key)
    )
