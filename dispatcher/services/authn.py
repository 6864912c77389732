"""Detached request signatures: EBC-Cert-SN, EBC-Signed-At, EBC-Signature.

The signed bytes are the exact body followed by the 4-byte big-endian signed-at, the same
model as the bearer signature block, so one verifier serves HTTP and broadcast paths.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Mapping

from dispatcher.errors import IntakeError
from protocols.codes import CertSN
from protocols.errors import CodeError
from signing import sm2
from signing.block import signed_message
from signing.errors import SignatureError, StaleTimestamp
from signing.freshness import check_fresh
from signing.trust import TrustEntry, TrustStore

HEADER_CERT_SN = "EBC-Cert-SN"
HEADER_SIGNED_AT = "EBC-Signed-At"
HEADER_SIGNATURE = "EBC-Signature"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name) or headers.get(name.lower())
    return value.strip() if value else None


def read_cert_sn(headers: Mapping[str, str]) -> CertSN:
    raw = _header(headers, HEADER_CERT_SN)
    if raw is None:
        raise IntakeError("signature-missing", f"the {HEADER_CERT_SN} header is missing")
    try:
        return CertSN(raw)
    except CodeError as exc:
        raise IntakeError("signature-invalid", f"{HEADER_CERT_SN}: {exc}") from exc


def verify_request(
    *,
    body: bytes,
    headers: Mapping[str, str],
    trust: TrustStore,
    now: dt.datetime,
    freshness_seconds: int,
    future_skew_seconds: int,
) -> TrustEntry:
    """The trusted issuer who signed this request, or an IntakeError saying why not."""
    cert_sn = read_cert_sn(headers)
    signed_at_text = _header(headers, HEADER_SIGNED_AT)
    signature_text = _header(headers, HEADER_SIGNATURE)
    if signed_at_text is None or signature_text is None:
        missing = HEADER_SIGNED_AT if signed_at_text is None else HEADER_SIGNATURE
        raise IntakeError("signature-missing", f"the {missing} header is missing")
    try:
        signed_at = int(signed_at_text)
        if not 0 <= signed_at < 2**32:
            raise ValueError
    except ValueError:
        raise IntakeError(
            "signature-invalid", f"{HEADER_SIGNED_AT} must be UTC seconds, got {signed_at_text!r}"
        ) from None
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except (binascii.Error, ValueError):
        raise IntakeError("signature-invalid", f"{HEADER_SIGNATURE} is not valid base64") from None
    if len(signature) != 64:
        raise IntakeError(
            "signature-invalid",
            f"{HEADER_SIGNATURE} must carry the 64-byte SM2 r||s, got {len(signature)} bytes",
        )
    try:
        entry = trust.require_valid(cert_sn, at=now)
    except SignatureError as exc:
        raise IntakeError(exc.code, str(exc)) from exc
    try:
        check_fresh(
            signed_at,
            int(now.timestamp()),
            window=freshness_seconds,
            future_skew=future_skew_seconds,
        )
    except StaleTimestamp as exc:
        raise IntakeError("stale-timestamp", str(exc)) from exc
    if not sm2.verify(entry.public_key, signed_message(body, signed_at), signature):
        raise IntakeError(
            "signature-invalid",
            f"the signature does not match the body for certificate {cert_sn.value}",
        )
    return entry


def sign_request(
    body: bytes, *, sign: Callable[[bytes], bytes], cert_sn: str, signed_at: int
) -> dict[str, str]:
    """Headers for a signed request (used by `ebc alert send` and the tests)."""
    signature = sign(signed_message(body, signed_at))
    return {
        HEADER_CERT_SN: cert_sn,
        HEADER_SIGNED_AT: str(signed_at),
        HEADER_SIGNATURE: base64.b64encode(signature).decode("ascii"),
    }
