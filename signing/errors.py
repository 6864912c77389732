"""Errors raised by the signing package (GY/T 389).

    ValueError
    └── SignatureError           a stable ``code`` and a message a person can act on
        ├── KeyFormatError       a key file or key bytes that are not an SM2 key
        ├── SignatureInvalid     a signature that does not verify, or cannot be read
        ├── SignatureMissing     no signature where one is required
        ├── UnknownCertificate   a certificate serial not in the trust store
        ├── CertificateRevoked
        ├── CertificateExpired   outside not_before..not_after
        ├── StaleTimestamp       signed time outside the freshness window
        ├── ReplayDetected       a known (sender, message id) with different bytes
        └── TrustStoreError      a trust-store file that cannot be loaded

The codes mirror protocols.errors.ProtocolError so callers can map both onto one response.
"""

from __future__ import annotations


class SignatureError(ValueError):
    code = "signature-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class KeyFormatError(SignatureError):
    code = "invalid-key"


class SignatureInvalid(SignatureError):
    code = "signature-invalid"


class SignatureMissing(SignatureError):
    code = "signature-missing"


class UnknownCertificate(SignatureError):
    code = "unknown-certificate"


class CertificateRevoked(SignatureError):
    code = "certificate-revoked"


class CertificateExpired(SignatureError):
    code = "certificate-expired"


class StaleTimestamp(SignatureError):
    code = "stale-timestamp"


class ReplayDetected(SignatureError):
    code = "replay"


class TrustStoreError(SignatureError):
    code = "invalid-trust-store"
