"""Key files: PKCS#8/SEC1/SPKI round trips and refusals that name the problem."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from signing import der
from signing.errors import KeyFormatError
from signing.keyfile import OID_SM2, pem_encode
from signing.sm2 import SM2PrivateKey, SM2PublicKey

PKCS8 = serialization.PrivateFormat.PKCS8
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
PEM = serialization.Encoding.PEM


def _p256_private_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(PEM, PKCS8, serialization.NoEncryption())


def test_private_pem_round_trip(private_key: SM2PrivateKey) -> None:
    pem = private_key.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert len(private_key.to_der()) == 138  # the fixed layout OpenSSL 3 writes
    loaded = SM2PrivateKey.from_pem(pem)
    assert loaded == private_key
    assert loaded.public_key() == private_key.public_key()


def test_public_pem_round_trip(private_key: SM2PrivateKey) -> None:
    public = private_key.public_key()
    pem = public.to_pem()
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert len(public.to_der()) == 91
    assert SM2PublicKey.from_pem(pem) == public
    assert SM2PublicKey.from_pem(pem.decode()) == public


def test_sec1_private_key_is_accepted(private_key: SM2PrivateKey) -> None:
    point = private_key.public_key().point
    sec1 = der.encode(
        der.SEQUENCE,
        der.encode_uint(1)
        + der.encode(der.OCTET_STRING, private_key.scalar)
        + der.encode(der.CONTEXT_0, der.encode_oid(OID_SM2))
        + der.encode(der.CONTEXT_1, der.encode(der.BIT_STRING, b"\x00\x04" + point)),
    )
    assert SM2PrivateKey.from_pem(pem_encode("EC PRIVATE KEY", sec1)) == private_key


def test_sec1_without_curve_is_refused(private_key: SM2PrivateKey) -> None:
    sec1 = der.encode(
        der.SEQUENCE, der.encode_uint(1) + der.encode(der.OCTET_STRING, private_key.scalar)
    )
    with pytest.raises(KeyFormatError, match="does not name its curve"):
        SM2PrivateKey.from_pem(pem_encode("EC PRIVATE KEY", sec1))


def test_p256_private_key_is_refused_naming_the_curve() -> None:
    with pytest.raises(KeyFormatError, match=r"1\.2\.840\.10045\.3\.1\.7.*P-256.*not SM2"):
        SM2PrivateKey.from_pem(_p256_private_pem())


def test_p256_public_key_is_refused_naming_the_curve() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(PEM, SPKI)
    with pytest.raises(KeyFormatError, match=r"P-256.*not SM2 \(1\.2\.156\.10197\.1\.301\)"):
        SM2PublicKey.from_pem(pem)


def test_rsa_key_is_refused_naming_the_algorithm() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(PEM, PKCS8, serialization.NoEncryption())
    with pytest.raises(KeyFormatError, match=r"RSA.*not an elliptic-curve key"):
        SM2PrivateKey.from_pem(pem)


@pytest.mark.parametrize("cut", [1, 20, 100])
def test_truncated_der_is_refused(private_key: SM2PrivateKey, cut: int) -> None:
    pem = pem_encode("PRIVATE KEY", private_key.to_der()[:-cut])
    with pytest.raises(KeyFormatError, match=r"malformed.*truncated"):
        SM2PrivateKey.from_pem(pem)


def test_trailing_bytes_are_refused(private_key: SM2PrivateKey) -> None:
    pem = pem_encode("PUBLIC KEY", private_key.public_key().to_der() + b"\x00")
    with pytest.raises(KeyFormatError, match="trailing"):
        SM2PublicKey.from_pem(pem)


def test_non_minimal_length_is_refused(private_key: SM2PrivateKey) -> None:
    spki = private_key.public_key().to_der()
    assert spki[:4] == bytes.fromhex("30593013")
    stretched = bytes.fromhex("305a308113") + spki[4:]
    with pytest.raises(KeyFormatError, match="minimally"):
        SM2PublicKey.from_pem(pem_encode("PUBLIC KEY", stretched))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"hello, not a key", "not a PEM file"),
        (b"", "not a PEM file"),
        (b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", "base64"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "ends with"),
        (
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            "encrypted",
        ),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "'CERTIFICATE'"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "malformed"),
    ],
    ids=[
        "garbage",
        "empty",
        "bad-base64",
        "label-mismatch",
        "encrypted",
        "certificate",
        "junk-der",
    ],
)
def test_garbage_is_refused_with_a_reason(data: bytes, problem: str) -> None:
    with pytest.raises(KeyFormatError, match=problem):
        SM2PrivateKey.from_pem(data)


def test_public_pem_given_as_private_is_refused(private_key: SM2PrivateKey) -> None:
    with pytest.raises(KeyFormatError, match="'PUBLIC KEY'"):
        SM2PrivateKey.from_pem(private_key.public_key().to_pem())


def test_two_pem_blocks_are_refused(private_key: SM2PrivateKey) -> None:
    with pytest.raises(KeyFormatError, match="2 blocks"):
        SM2PrivateKey.from_pem(private_key.to_pem() * 2)


def test_embedded_public_key_must_match(
    private_key: SM2PrivateKey, other_key: SM2PrivateKey
) -> None:
    mixed = SM2PrivateKey(private_key.scalar)
    mixed.__dict__["_point"] = other_key.public_key().point
    with pytest.raises(KeyFormatError, match="does not match"):
        SM2PrivateKey.from_pem(mixed.to_pem())


def test_pem_lines_are_64_characters(private_key: SM2PrivateKey) -> None:
    lines = private_key.to_pem().decode().splitlines()
    assert all(len(line) <= 64 for line in lines[1:-1])
    assert base64.b64decode("".join(lines[1:-1])) == private_key.to_der()
