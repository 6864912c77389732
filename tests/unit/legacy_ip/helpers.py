"""Fixed values and builders the legacy loudspeaker tests share."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from protocols.codes import CertSN
from protocols.legacy_ip import Body, Direction, encode_frame
from signing.block import sign_payload
from signing.signer import Signer
from signing.sm2 import SM2PrivateKey, SM2PublicKey

NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
NOW_UNIX = 1795766400
CERT_SN = CertSN("100000000001")
FIXED_SIGNATURE = bytes(range(0x40, 0x80))  # 64 recognisable bytes
PLATFORM = "43415230000000103010101"
EBMID = PLATFORM + "20261127" + "0001"
TERMINAL = "63415231000010314010401"
TERMINAL_2 = "63415231010010314010401"
ELSEWHERE = "63401020000010314010401"  # a village in another county (340102)
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "legacy_ip"


class FixedSigner:
    """Returns the same 64 bytes for every message: golden frames stay byte-for-byte stable."""

    cert_sn = CERT_SN

    @property
    def public_key(self) -> SM2PublicKey:
        return SM2PrivateKey.generate().public_key()  # never used by the golden tests

    def sign(self, message: bytes) -> bytes:
        return FIXED_SIGNATURE


def down(body: Body, signer: Signer, *, at: int = NOW_UNIX, sequence: int = 1) -> bytes:
    """A gateway -> terminal frame signed by ``signer`` at ``at``."""
    return encode_frame(
        Direction.DOWN,
        body.COMMAND,
        body.to_bytes(),
        sequence=sequence,
        sign=lambda payload: sign_payload(payload, signer, at).to_bytes(),
    )


def up(body: Body, *, at: int = NOW_UNIX, sequence: int = 1) -> bytes:
    """A terminal -> gateway frame with the unsigned block terminals send."""
    block = at.to_bytes(4, "big") + bytes(6) + bytes(64)
    return encode_frame(Direction.UP, body.COMMAND, body.to_bytes(), sequence=sequence, block=block)


async def eventually(condition: Callable[[], object], *, rounds: int = 1000) -> None:
    """Wait for a condition, a bounded number of short sleeps: never a timed assertion."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition was not reached")
