"""The SM2 recommended curve (GB/T 32918.5) and the Z value of GB/T 32918.2.

Z binds a signature to the signer's identity and key, so every library must hash exactly the
same bytes: ENTL (id length in bits, 2 bytes) || ID || a || b || Gx || Gy || Px || Py.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives import hashes

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

_CURVE_BYTES = b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY))
MAX_USER_ID_BYTES = 8191  # ENTL is a 16-bit count of bits


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def on_curve(x: int, y: int) -> bool:
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


def decompress(prefix: int, x: int) -> bytes | None:
    """x||y for a 02/03-prefixed point, or None when x is not on the curve."""
    if x >= P:
        return None
    rhs = (x * x * x + A * x + B) % P
    y = pow(rhs, (P + 1) // 4, P)  # a square root because P = 3 (mod 4)
    if y * y % P != rhs:
        return None
    if y & 1 != prefix & 1:
        y = (P - y) % P
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def check_user_id(user_id: bytes) -> None:
    if not isinstance(user_id, bytes) or not 1 <= len(user_id) <= MAX_USER_ID_BYTES:
        # empty ids are refused too: gmalg cannot sign with one, so they would not interoperate
        raise ValueError(f"SM2 user id must be 1 to {MAX_USER_ID_BYTES} bytes")


@lru_cache(maxsize=256)
def z_value(point: bytes, user_id: bytes) -> bytes:
    entl = (len(user_id) * 8).to_bytes(2, "big")
    return sm3(entl + user_id + _CURVE_BYTES + point)


def message_digest(point: bytes, user_id: bytes, message: bytes) -> bytes:
    """e = SM3(Z || M), the value SM2 actually signs."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(z_value(point, user_id))
    digest.update(message)
    return digest.finalize()
