"""The SM2 arithmetic: gmssl-pyx (C, fast) when importable, else gmalg (pure Python, ~50x slower).

Both take and return raw values (32-byte scalar, 64-byte x||y point, 64-byte r||s) so callers
never see either library's conventions. The gmssl path hashes e = SM3(Z || M) itself and signs
the digest, which skips the library's fixed per-call overhead; the gmalg path computes Z on its
own, so the cross-backend tests also check our Z against an independent implementation.
"""

from __future__ import annotations

from typing import Protocol

from signing import der
from signing._quiet import quiet_c_traces
from signing.curve import N, message_digest


def _rs_bytes(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _valid_rs(rs: bytes) -> tuple[int, int] | None:
    """r and s when both lie in [1, n-1], the only values any verifier could accept."""
    if len(rs) != 64:
        return None
    r, s = int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big")
    if not (0 < r < N and 0 < s < N):
        return None
    return r, s


class Backend(Protocol):
    name: str

    def generate(self) -> tuple[bytes, bytes]:
        """(scalar, point)"""
        ...

    def sign(self, scalar: bytes, point: bytes, message: bytes, user_id: bytes) -> bytes: ...

    def verify(self, point: bytes, message: bytes, rs: bytes, user_id: bytes) -> bool: ...


class GmsslBackend:
    name = "gmssl-pyx"

    def __init__(self) -> None:
        import gmssl_pyx

        self._lib = gmssl_pyx

    def generate(self) -> tuple[bytes, bytes]:
        point, scalar = self._lib.sm2_key_generate()
        return bytes(scalar), bytes(point)

    def sign(self, scalar: bytes, point: bytes, message: bytes, user_id: bytes) -> bytes:
        digest = message_digest(point, user_id, message)
        r, s = der.decode_signature(self._lib.sm2_sign_sm3_digest(scalar, digest))
        return _rs_bytes(r, s)

    def verify(self, point: bytes, message: bytes, rs: bytes, user_id: bytes) -> bool:
        values = _valid_rs(rs)
        if values is None:  # refused here so GmSSL never sees (and traces) an unparsable value
            return False
        signature = der.encode_signature(*values)
        digest = message_digest(point, user_id, message)
        try:
            with quiet_c_traces():
                return bool(self._lib.sm2_verify_sm3_digest(point, digest, signature))
        except self._lib.GmsslInnerError:
            return False


class GmalgBackend:
    name = "gmalg"

    def __init__(self) -> None:
        import gmalg

        self._lib = gmalg

    def generate(self) -> tuple[bytes, bytes]:
        scalar, point = self._lib.SM2().generate_keypair()
        return scalar.rjust(32, b"\x00"), point[1:]

    def sign(self, scalar: bytes, point: bytes, message: bytes, user_id: bytes) -> bytes:
        engine = self._lib.SM2(scalar, user_id, b"\x04" + point)
        r, s = engine.sign(message)
        return _rs_bytes(int.from_bytes(r, "big"), int.from_bytes(s, "big"))

    def verify(self, point: bytes, message: bytes, rs: bytes, user_id: bytes) -> bool:
        if _valid_rs(rs) is None:
            return False
        engine = self._lib.SM2(None, user_id, b"\x04" + point)
        try:
            return bool(engine.verify(message, rs[:32], rs[32:]))
        except (ValueError, ArithmeticError, self._lib.errors.GMError):
            return False


def derive_point(scalar: bytes) -> bytes:
    """The public point d*G; gmssl-pyx has no call for it, so this always runs in gmalg (~15 ms)."""
    import gmalg

    return bytes(gmalg.SM2().generate_pk(scalar))[1:]


def _select() -> Backend:
    try:
        return GmsslBackend()
    except ImportError:
        return GmalgBackend()


ACTIVE: Backend = _select()
