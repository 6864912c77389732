"""Fixtures: session key pairs, a signer, a trust store, and openssl as the reference."""

from __future__ import annotations

import os
import shutil

import pytest

from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from signing.trust import TrustStore
from tests.unit.signing.helpers import CERT_SN, make_entry


@pytest.fixture(scope="session")
def private_key() -> SM2PrivateKey:
    return SM2PrivateKey.generate()


@pytest.fixture(scope="session")
def other_key() -> SM2PrivateKey:
    return SM2PrivateKey.generate()


@pytest.fixture
def signer(private_key: SM2PrivateKey) -> SoftwareSigner:
    return SoftwareSigner(private_key, CERT_SN)


@pytest.fixture
def trust(private_key: SM2PrivateKey) -> TrustStore:
    return TrustStore([make_entry(private_key)])


@pytest.fixture(scope="session")
def openssl() -> str:
    """The openssl binary; its absence skips interop tests visibly, or fails them when CI=true."""
    path = shutil.which("openssl")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("openssl is required for SM2 interop tests in CI")
        pytest.skip("openssl binary not found: SM2 interop with OpenSSL is NOT tested")
    return path
