"""(d) SM2 sign and verify per second on one core, through signing.sm2 (the backend the
platform and terminals use)."""

from __future__ import annotations

import time

from bench.common import Load, Section
from signing import sm2
from signing.sm2 import SM2PrivateKey

MESSAGE = b"x" * 600  # about one terminal command


def _rate(action: object, seconds: float, cap: int) -> tuple[float, int]:
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while count < cap and time.perf_counter() < deadline:
        action()  # type: ignore[operator]
        count += 1
    return count / (time.perf_counter() - started), count


def run(quick: bool = False) -> Section:
    load = Load()
    key = SM2PrivateKey.generate()
    public = key.public_key()
    signature = sm2.sign(key, MESSAGE)
    seconds, cap = (0.3, 200) if quick else (5.0, 100_000)
    signs, n_sign = _rate(lambda: sm2.sign(key, MESSAGE), seconds, cap)
    verifies, n_verify = _rate(lambda: sm2.verify(public, MESSAGE, signature), seconds, cap)
    assert sm2.verify(public, MESSAGE, signature)
    section = Section(
        "(d) SM2 sign and verify",
        "python -m bench --only sm2",
        ["operation", "per second (one core)", "ms each", "samples"],
        [["sign (SM3(Z||M), 600-byte message)", signs, 1000 / signs, n_sign],
         ["verify", verifies, 1000 / verifies, n_verify]],
        [f"backend: {sm2.backend_name()}", load.note()],
        {"sign_per_s": signs, "verify_per_s": verifies},
    )
    return section
