"""SM2 sign/verify semantics and the raw/DER signature forms."""

from __future__ import annotations

import pytest

from signing.curve import N
from signing.errors import KeyFormatError, SignatureError, SignatureInvalid
from signing.sm2 import (
    DEFAULT_USER_ID,
    SM2PrivateKey,
    SM2PublicKey,
    der_to_raw,
    raw_to_der,
    sign,
    verify,
)

MESSAGE = "应急广播 test message".encode()


def _flip(data: bytes, index: int, bit: int = 0) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 1 << bit
    return bytes(changed)


def test_signature_is_64_bytes_and_verifies(private_key: SM2PrivateKey) -> None:
    signature = sign(private_key, MESSAGE)
    assert len(signature) == 64
    assert verify(private_key.public_key(), MESSAGE, signature)


def test_signatures_are_randomised_yet_all_verify(private_key: SM2PrivateKey) -> None:
    first, second = sign(private_key, MESSAGE), sign(private_key, MESSAGE)
    assert first != second
    assert verify(private_key.public_key(), MESSAGE, second)


@pytest.mark.parametrize("index", [0, 7, len(MESSAGE) - 1])
def test_flipped_bit_in_message_fails(private_key: SM2PrivateKey, index: int) -> None:
    signature = sign(private_key, MESSAGE)
    assert not verify(private_key.public_key(), _flip(MESSAGE, index), signature)


@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_flipped_bit_in_signature_fails(private_key: SM2PrivateKey, index: int) -> None:
    signature = sign(private_key, MESSAGE)
    assert not verify(private_key.public_key(), MESSAGE, _flip(signature, index, 3))


def test_wrong_key_fails(private_key: SM2PrivateKey, other_key: SM2PrivateKey) -> None:
    assert not verify(other_key.public_key(), MESSAGE, sign(private_key, MESSAGE))


def test_user_id_is_part_of_what_is_signed(private_key: SM2PrivateKey) -> None:
    public = private_key.public_key()
    custom = sign(private_key, MESSAGE, user_id=b"alice@example")
    assert verify(public, MESSAGE, custom, user_id=b"alice@example")
    assert not verify(public, MESSAGE, custom)
    assert not verify(public, MESSAGE, sign(private_key, MESSAGE), user_id=b"8765432187654321")
    assert DEFAULT_USER_ID == b"1234567812345678"


def test_empty_message_signs(private_key: SM2PrivateKey) -> None:
    assert verify(private_key.public_key(), b"", sign(private_key, b""))


@pytest.mark.parametrize(
    "signature",
    [
        b"",
        b"\x00" * 63,
        b"\x00" * 65,
        b"\x00" * 64,
        N.to_bytes(32, "big") + b"\x01" * 32,
        b"\x01" * 32 + N.to_bytes(32, "big"),
        b"\xff" * 64,
    ],
    ids=["empty", "short", "long", "zero", "r=n", "s=n", "all-ones"],
)
def test_malformed_signature_is_false_not_an_error(
    private_key: SM2PrivateKey, signature: bytes
) -> None:
    assert verify(private_key.public_key(), MESSAGE, signature) is False


def test_der_signature_given_as_raw_is_false(private_key: SM2PrivateKey) -> None:
    der = raw_to_der(sign(private_key, MESSAGE))
    assert verify(private_key.public_key(), MESSAGE, der) is False


def test_user_id_limits() -> None:
    key = SM2PrivateKey.generate()
    with pytest.raises(SignatureError) as caught:
        sign(key, MESSAGE, user_id=b"")
    assert caught.value.code == "invalid-user-id"
    with pytest.raises(SignatureError):
        sign(key, MESSAGE, user_id=b"x" * 8192)


def test_raw_der_round_trip(private_key: SM2PrivateKey) -> None:
    raw = sign(private_key, MESSAGE)
    der = raw_to_der(raw)
    assert der[0] == 0x30 and 68 <= len(der) <= 72
    assert der_to_raw(der) == raw


def test_raw_to_der_small_values_are_minimal() -> None:
    raw = (1).to_bytes(32, "big") + (0x80).to_bytes(32, "big")
    assert raw_to_der(raw) == bytes.fromhex("3007020101020200 80".replace(" ", ""))
    assert der_to_raw(raw_to_der(raw)) == raw


@pytest.mark.parametrize(
    ("der", "problem"),
    [
        (bytes.fromhex("3006020101020101") + b"\x00", "trailing"),
        (bytes.fromhex("30060201010201ff"), "negative"),
        (bytes.fromhex("3007020200010201 01".replace(" ", "")), "leading zero"),
        (bytes.fromhex("3080020101020101 0000".replace(" ", "")), "indefinite"),
        (bytes.fromhex("3003020101"), "r and s"),
        (bytes.fromhex("300602010102"), "truncated"),
        (bytes.fromhex("3010020101"), "truncated"),
    ],
    ids=["trailing", "negative", "non-minimal", "indefinite", "one-int", "short-int", "short-seq"],
)
def test_der_to_raw_is_strict(der: bytes, problem: str) -> None:
    with pytest.raises(SignatureInvalid, match=problem):
        der_to_raw(der)


def test_der_to_raw_rejects_oversized_integers() -> None:
    big = b"\x02\x21\x01" + b"\x00" * 32
    with pytest.raises(SignatureInvalid, match="longer than 32 bytes"):
        der_to_raw(b"\x30\x26" + big + b"\x02\x01\x01")


def test_raw_to_der_rejects_wrong_length() -> None:
    with pytest.raises(SignatureInvalid, match="64 bytes"):
        raw_to_der(b"\x01" * 63)


def test_private_key_range_is_checked() -> None:
    with pytest.raises(KeyFormatError, match="outside"):
        SM2PrivateKey(b"\x00" * 32)
    with pytest.raises(KeyFormatError, match="outside"):
        SM2PrivateKey((N - 1).to_bytes(32, "big"))
    with pytest.raises(KeyFormatError, match="32 bytes"):
        SM2PrivateKey(b"\x01" * 31)


def test_private_key_repr_hides_the_scalar(private_key: SM2PrivateKey) -> None:
    assert private_key.scalar.hex() not in repr(private_key)
    assert "secret" in repr(private_key)


def test_public_key_derived_from_scalar_matches_generated(private_key: SM2PrivateKey) -> None:
    again = SM2PrivateKey(private_key.scalar)  # no cached point: derives d*G
    assert again.public_key() == private_key.public_key()


def test_public_point_must_be_on_curve(private_key: SM2PrivateKey) -> None:
    point = private_key.public_key().point
    with pytest.raises(KeyFormatError, match="not on the SM2 curve"):
        SM2PublicKey(point[:63] + bytes([point[63] ^ 1]))
    with pytest.raises(KeyFormatError, match="64 bytes"):
        SM2PublicKey(point[:32])


def test_public_key_accepts_prefixed_and_compressed_points(private_key: SM2PrivateKey) -> None:
    public = private_key.public_key()
    x, y = public.point[:32], public.point[32:]
    compressed = bytes([0x02 | (y[-1] & 1)]) + x
    assert SM2PublicKey.from_point(b"\x04" + public.point) == public
    assert SM2PublicKey.from_point(compressed) == public
