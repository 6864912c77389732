"""OpenSSL 3 as the independent reference: signatures and key files must agree both ways.

OpenSSL 3.0 uses an empty user id unless told otherwise, hence distid on every call.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dispatcher.cli.keys import register
from signing.errors import KeyFormatError
from signing.sm2 import SM2PrivateKey, SM2PublicKey, der_to_raw, raw_to_der, sign, verify
from tests.unit.signing.helpers import run

DISTID = "distid:1234567812345678"


def _openssl_verify(openssl: str, public_pem: Path, message: Path, sig_der: Path) -> bool:
    done = run(
        [
            openssl,
            "pkeyutl",
            "-verify",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            DISTID,
            "-pubin",
            "-inkey",
            public_pem,
            "-in",
            message,
            "-sigfile",
            sig_der,
        ],
        check=False,
    )
    return done.returncode == 0 and b"Signature Verified Successfully" in done.stdout


def test_ebc_signature_verifies_with_openssl(
    openssl: str, tmp_path: Path, private_key: SM2PrivateKey
) -> None:
    public_pem, message, sig = tmp_path / "public.pem", tmp_path / "msg", tmp_path / "sig.der"
    public_pem.write_bytes(private_key.public_key().to_pem())
    message.write_bytes(b"EBDB bytes \x00\xff" * 50)
    sig.write_bytes(raw_to_der(sign(private_key, message.read_bytes())))
    assert _openssl_verify(openssl, public_pem, message, sig)
    message.write_bytes(b"EBDB bytes \x00\xfe" * 50)
    assert not _openssl_verify(openssl, public_pem, message, sig)  # the check can fail


def test_openssl_signature_verifies_with_ebc(openssl: str, tmp_path: Path) -> None:
    key_pem, public_pem = tmp_path / "key.pem", tmp_path / "public.pem"
    message, sig = tmp_path / "msg", tmp_path / "sig.der"
    run([openssl, "genpkey", "-algorithm", "SM2", "-out", key_pem])
    run([openssl, "pkey", "-in", key_pem, "-pubout", "-out", public_pem])
    message.write_bytes("应急广播 from OpenSSL".encode())
    run(
        [
            openssl,
            "pkeyutl",
            "-sign",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            DISTID,
            "-inkey",
            key_pem,
            "-in",
            message,
            "-out",
            sig,
        ]
    )
    private = SM2PrivateKey.from_pem(key_pem.read_bytes())
    public = SM2PublicKey.from_pem(public_pem.read_bytes())
    assert private.public_key() == public
    raw = der_to_raw(sig.read_bytes())
    assert verify(public, message.read_bytes(), raw)
    assert not verify(public, message.read_bytes() + b"!", raw)


def test_ebc_key_files_load_in_openssl_byte_for_byte(
    openssl: str, tmp_path: Path, private_key: SM2PrivateKey
) -> None:
    key_pem = tmp_path / "private.pem"
    key_pem.write_bytes(private_key.to_pem())
    assert run([openssl, "pkey", "-in", key_pem, "-pubout"]).stdout == (
        private_key.public_key().to_pem()
    )
    assert run([openssl, "pkey", "-in", key_pem]).stdout == private_key.to_pem()


def test_openssl_sec1_key_loads(openssl: str, tmp_path: Path) -> None:
    key_pem, sec1_pem = tmp_path / "key.pem", tmp_path / "sec1.pem"
    run([openssl, "genpkey", "-algorithm", "SM2", "-out", key_pem])
    run([openssl, "ec", "-in", key_pem, "-out", sec1_pem])
    assert b"PRIVATE KEY-----" in sec1_pem.read_bytes().splitlines()[0]
    assert SM2PrivateKey.from_pem(sec1_pem.read_bytes()) == SM2PrivateKey.from_pem(
        key_pem.read_bytes()
    )


def test_openssl_p256_key_is_refused(openssl: str, tmp_path: Path) -> None:
    key_pem, public_pem = tmp_path / "p256.pem", tmp_path / "p256.pub"
    run(
        [
            openssl,
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            key_pem,
        ]
    )
    run([openssl, "pkey", "-in", key_pem, "-pubout", "-out", public_pem])
    with pytest.raises(KeyFormatError, match="P-256"):
        SM2PrivateKey.from_pem(key_pem.read_bytes())
    with pytest.raises(KeyFormatError, match="P-256"):
        SM2PublicKey.from_pem(public_pem.read_bytes())


@pytest.mark.parametrize("signed_at", [None, 1_748_779_200])
def test_cli_signature_verifies_with_openssl(
    openssl: str, tmp_path: Path, signed_at: int | None
) -> None:
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    assert runner.invoke(app, ["keys", "new", "--out", str(tmp_path / "k")]).exit_code == 0
    document = tmp_path / "doc.xml"
    document.write_bytes(b"<EBD>...</EBD>\n")
    extra = [] if signed_at is None else ["--signed-at", str(signed_at)]
    signed = runner.invoke(
        app, ["sign", "--key", str(tmp_path / "k" / "private.pem"), *extra, str(document)]
    )
    assert signed.exit_code == 0, signed.output
    sig = tmp_path / "sig.der"
    sig.write_bytes(raw_to_der(base64.b64decode(signed.stdout.strip())))
    message = tmp_path / "msg"
    tail = b"" if signed_at is None else signed_at.to_bytes(4, "big")
    message.write_bytes(document.read_bytes() + tail)
    assert _openssl_verify(openssl, tmp_path / "k" / "public.pem", message, sig)
