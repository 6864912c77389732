"""Who signs: an interface, so a hardware cipher device (production platforms sign in one,
GY/T 389) can replace the software key without touching any caller."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from protocols.codes import CertSN
from signing.errors import KeyFormatError
from signing.sm2 import DEFAULT_USER_ID, SM2PrivateKey, SM2PublicKey, sign


@runtime_checkable
class Signer(Protocol):
    @property
    def cert_sn(self) -> CertSN: ...

    @property
    def public_key(self) -> SM2PublicKey: ...

    def sign(self, message: bytes) -> bytes:
        """64-byte SM2 r||s over ``message`` with the default user id."""
        ...


class SoftwareSigner:
    """An SM2 private key held in process memory."""

    def __init__(
        self, private_key: SM2PrivateKey, cert_sn: CertSN | str, *, user_id: bytes = DEFAULT_USER_ID
    ) -> None:
        self._key = private_key
        self._cert_sn = cert_sn if isinstance(cert_sn, CertSN) else CertSN(cert_sn)
        self._public = private_key.public_key()
        self._user_id = user_id

    @property
    def cert_sn(self) -> CertSN:
        return self._cert_sn

    @property
    def public_key(self) -> SM2PublicKey:
        return self._public

    def sign(self, message: bytes) -> bytes:
        return sign(self._key, message, user_id=self._user_id)

    def __repr__(self) -> str:
        return f"SoftwareSigner(cert_sn={self._cert_sn.value})"


def load_signer(private_pem_path: str | Path, cert_sn: CertSN | str) -> SoftwareSigner:
    path = Path(private_pem_path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFormatError(f"cannot read private key {path}: {exc.strerror}") from exc
    try:
        key = SM2PrivateKey.from_pem(data)
    except KeyFormatError as exc:
        raise KeyFormatError(f"{path}: {exc.message}") from exc
    return SoftwareSigner(key, cert_sn)
