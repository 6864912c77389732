"""The Signer interface and loading a software signer from a key file."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocols.codes import CertSN
from protocols.errors import CodeError
from signing.errors import KeyFormatError
from signing.signer import Signer, SoftwareSigner, load_signer
from signing.sm2 import SM2PrivateKey, verify


def test_software_signer_satisfies_the_protocol(signer: SoftwareSigner) -> None:
    assert isinstance(signer, Signer)
    signature = signer.sign(b"payload")
    assert verify(signer.public_key, b"payload", signature)


def test_load_signer(tmp_path: Path, private_key: SM2PrivateKey) -> None:
    path = tmp_path / "private.pem"
    path.write_bytes(private_key.to_pem())
    loaded = load_signer(path, "000000000007")
    assert loaded.cert_sn == CertSN("000000000007")
    assert loaded.public_key == private_key.public_key()
    assert private_key.scalar.hex() not in repr(loaded)


def test_load_signer_errors_name_the_file(tmp_path: Path, private_key: SM2PrivateKey) -> None:
    with pytest.raises(KeyFormatError, match="cannot read"):
        load_signer(tmp_path / "absent.pem", "000000000007")
    bad = tmp_path / "bad.pem"
    bad.write_bytes(private_key.public_key().to_pem())
    with pytest.raises(KeyFormatError, match=r"bad\.pem: .*PUBLIC KEY"):
        load_signer(bad, "000000000007")
    with pytest.raises(CodeError):
        SoftwareSigner(private_key, "7")
