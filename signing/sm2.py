"""SM2 signatures with SM3 and the Z value (GB/T 32918, GM/T 0009), as GY/T 389 requires.

Signatures travel as raw r||s (64 bytes) because that is what the bearer block carries;
``raw_to_der``/``der_to_raw`` convert for OpenSSL and other DER users.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from signing import _backends, der, keyfile
from signing._quiet import set_trace_capture, trace_capture_enabled
from signing.curve import N, check_user_id, on_curve
from signing.errors import KeyFormatError, SignatureError, SignatureInvalid

__all__ = [
    "DEFAULT_USER_ID",
    "SIGNATURE_LENGTH",
    "SM2PrivateKey",
    "SM2PublicKey",
    "backend_name",
    "der_to_raw",
    "raw_to_der",
    "set_trace_capture",
    "sign",
    "trace_capture_enabled",
    "verify",
]

DEFAULT_USER_ID = b"1234567812345678"
SIGNATURE_LENGTH = 64


def backend_name() -> str:
    """``gmssl-pyx`` or, when it cannot be imported, ``gmalg``."""
    return _backends.ACTIVE.name


@dataclass(frozen=True)
class SM2PublicKey:
    point: bytes  # x||y, 64 bytes

    def __post_init__(self) -> None:
        if not isinstance(self.point, bytes) or len(self.point) != 64:
            raise KeyFormatError("SM2 public point must be 64 bytes (x||y)")
        x, y = int.from_bytes(self.point[:32], "big"), int.from_bytes(self.point[32:], "big")
        if not on_curve(x, y):
            raise KeyFormatError("SM2 public point is not on the SM2 curve")

    @classmethod
    def from_point(cls, point: bytes) -> SM2PublicKey:
        """64-byte x||y, 65-byte 04||x||y or 33-byte compressed 02/03||x."""
        if len(point) == 64:
            return cls(bytes(point))
        return cls(keyfile.point_from_octets(bytes(point), "SM2 public point"))

    @classmethod
    def from_der(cls, data: bytes) -> SM2PublicKey:
        return cls(keyfile.decode_public(data))

    @classmethod
    def from_pem(cls, data: bytes | str) -> SM2PublicKey:
        _, raw = keyfile.pem_decode(data, (keyfile.PUBLIC_LABEL,))
        return cls.from_der(raw)

    def to_der(self) -> bytes:
        return keyfile.encode_public(self.point)

    def to_pem(self) -> bytes:
        return keyfile.pem_encode(keyfile.PUBLIC_LABEL, self.to_der())


@dataclass(frozen=True)
class SM2PrivateKey:
    scalar: bytes  # d, 32 bytes big-endian

    def __post_init__(self) -> None:
        if not isinstance(self.scalar, bytes) or len(self.scalar) != 32:
            raise KeyFormatError("SM2 private key must be 32 bytes")
        if not 1 <= int.from_bytes(self.scalar, "big") <= N - 2:
            raise KeyFormatError("SM2 private key is outside [1, n-2]")

    def __repr__(self) -> str:
        return "SM2PrivateKey(<secret>)"

    @cached_property
    def _point(self) -> bytes:
        return _backends.derive_point(self.scalar)

    def public_key(self) -> SM2PublicKey:
        return SM2PublicKey(self._point)

    @classmethod
    def generate(cls) -> SM2PrivateKey:
        while True:
            scalar, point = _backends.ACTIVE.generate()
            if 1 <= int.from_bytes(scalar, "big") <= N - 2:
                break
        key = cls(scalar)
        key.__dict__["_point"] = point  # the backend computed it; skip the slow derivation
        return key

    @classmethod
    def from_der(cls, data: bytes, *, label: str = "PRIVATE KEY") -> SM2PrivateKey:
        scalar, embedded = keyfile.decode_private(label, data)
        key = cls(scalar)
        if embedded is not None and embedded != key._point:
            raise KeyFormatError("the public key embedded in the private key does not match it")
        return key

    @classmethod
    def from_pem(cls, data: bytes | str) -> SM2PrivateKey:
        """PKCS#8 ("PRIVATE KEY"); SEC1 ("EC PRIVATE KEY"/"SM2 PRIVATE KEY") is accepted too."""
        label, raw = keyfile.pem_decode(data, keyfile.PRIVATE_LABELS)
        return cls.from_der(raw, label=label)

    def to_der(self) -> bytes:
        return keyfile.encode_private(self.scalar, self._point)

    def to_pem(self) -> bytes:
        return keyfile.pem_encode("PRIVATE KEY", self.to_der())


def _user_id(user_id: bytes) -> bytes:
    try:
        check_user_id(user_id)
    except ValueError as exc:
        raise SignatureError(str(exc), code="invalid-user-id") from exc
    return user_id


def sign(private: SM2PrivateKey, message: bytes, *, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """A fresh (randomised) 64-byte r||s over SM3(Z || message)."""
    return _backends.ACTIVE.sign(private.scalar, private._point, message, _user_id(user_id))


def verify(
    public: SM2PublicKey, message: bytes, signature: bytes, *, user_id: bytes = DEFAULT_USER_ID
) -> bool:
    """True only for a valid 64-byte r||s; anything malformed is simply False."""
    if not isinstance(signature, bytes | bytearray) or len(signature) != SIGNATURE_LENGTH:
        return False
    return _backends.ACTIVE.verify(public.point, message, bytes(signature), _user_id(user_id))


def raw_to_der(rs: bytes) -> bytes:
    if len(rs) != SIGNATURE_LENGTH:
        raise SignatureInvalid(f"raw SM2 signature must be 64 bytes (r||s), got {len(rs)}")
    return der.encode_signature(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big"))


def der_to_raw(data: bytes) -> bytes:
    try:
        r, s = der.decode_signature(data)
    except der.DerError as exc:
        raise SignatureInvalid(f"DER SM2 signature is malformed: {exc}") from exc
    if r >= 1 << 256 or s >= 1 << 256:
        raise SignatureInvalid("DER SM2 signature has r or s longer than 32 bytes")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")
