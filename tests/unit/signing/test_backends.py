"""The gmalg fallback agrees with gmssl-pyx, is really used when gmssl-pyx is missing, and
GmSSL's C trace lines stay off stderr without swallowing other output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from signing import _backends, _quiet
from signing.sm2 import (
    DEFAULT_USER_ID,
    SM2PrivateKey,
    SM2PublicKey,
    backend_name,
    set_trace_capture,
    sign,
    verify,
)

ROOT = Path(__file__).resolve().parents[3]
MESSAGE = b"fallback cross-check"
GMSSL = _backends.GmsslBackend()
GMALG = _backends.GmalgBackend()


def test_gmssl_is_the_active_backend_here() -> None:
    assert backend_name() == "gmssl-pyx"


@pytest.mark.parametrize(
    ("signer", "checker"), [(GMALG, GMSSL), (GMSSL, GMALG)], ids=["gmalg->gmssl", "gmssl->gmalg"]
)
def test_backends_verify_each_other(
    private_key: SM2PrivateKey, signer: _backends.Backend, checker: _backends.Backend
) -> None:
    point = private_key.public_key().point
    signature = signer.sign(private_key.scalar, point, MESSAGE, DEFAULT_USER_ID)
    assert checker.verify(point, MESSAGE, signature, DEFAULT_USER_ID)
    assert not checker.verify(point, MESSAGE + b".", signature, DEFAULT_USER_ID)
    assert not checker.verify(point, MESSAGE, signature, b"another user id")


def test_gmalg_keys_work_with_gmssl() -> None:
    scalar, point = GMALG.generate()
    assert _backends.derive_point(scalar) == point
    signature = GMSSL.sign(scalar, point, MESSAGE, DEFAULT_USER_ID)
    assert GMALG.verify(point, MESSAGE, signature, DEFAULT_USER_ID)


def test_gmalg_rejects_malformed_signatures(private_key: SM2PrivateKey) -> None:
    point = private_key.public_key().point
    for bad in (b"", b"\x00" * 64, b"\xff" * 64, b"\x01" * 63):
        assert GMALG.verify(point, MESSAGE, bad, DEFAULT_USER_ID) is False


def test_fallback_is_selected_when_gmssl_cannot_be_imported(private_key: SM2PrivateKey) -> None:
    script = (
        "import sys; sys.modules['gmssl_pyx'] = None\n"
        "from signing.sm2 import SM2PrivateKey, SM2PublicKey, backend_name, sign, verify\n"
        "key = SM2PrivateKey.from_pem(sys.stdin.buffer.read())\n"
        "sig = sign(key, b'from the fallback')\n"
        "assert verify(key.public_key(), b'from the fallback', sig)\n"
        "print(backend_name(), sig.hex())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=private_key.to_pem(),
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    name, signature = done.stdout.decode().split()
    assert name == "gmalg"
    assert verify(private_key.public_key(), b"from the fallback", bytes.fromhex(signature))


def _trace_free_failure(public: SM2PublicKey, signature: bytes) -> None:
    assert not verify(public, MESSAGE + b"x", signature)


def test_failed_verification_prints_no_c_trace(
    private_key: SM2PrivateKey, capfd: pytest.CaptureFixture[str]
) -> None:
    signature = sign(private_key, MESSAGE)
    _trace_free_failure(private_key.public_key(), signature)
    assert "sm2_" not in capfd.readouterr().err
    set_trace_capture(False)
    try:
        _trace_free_failure(private_key.public_key(), signature)
    finally:
        set_trace_capture(True)
    assert "sm2_sign.c" in capfd.readouterr().err  # the capture is what kept it quiet


def test_other_stderr_output_survives_the_capture(capfd: pytest.CaptureFixture[str]) -> None:
    with _quiet.quiet_c_traces():
        os.write(2, b"/project/GmSSL/src/sm2_sign.c:265:sm2_fast_verify():\n")
        os.write(2, b"another thread's log line\n")
    err = capfd.readouterr().err
    assert "another thread's log line" in err
    assert "sm2_fast_verify" not in err
