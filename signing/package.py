"""Signed EBD packages: open-and-verify, seal, and the EBDResponse ResultCode for any refusal.

Verification happens before the body is parsed in full, so forged bytes cost a signature check
rather than a parse, and a tampered body reports "signature failed" (4), not a parse fault.

ResultCode mapping (docs/ebd.md keeps the table):
    2  parse failure   not a tar, unreadable/unsafe XML, invalid values, unknown EBDType
    3  missing data    no EBDB in the package, a required element absent
    4  signature       missing, invalid or mismatched signature; unknown, revoked or expired
                       certificate; stale signed time
    5  other           size and count limits, unsafe members (traversal, links, devices),
                       bad or duplicate member names, replays, anything unexpected
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from protocols.ebd import (
    DEFAULT_PACKAGE_LIMITS,
    Ebd,
    OpenedPackage,
    PackageLimits,
    PackageNameError,
    ResultCode,
    build_ebd,
    build_package,
    open_package,
    parse_ebd,
)
from protocols.ebd.errors import EbdResultError
from protocols.errors import ProtocolError
from signing.ebds import build_signature_file, verify_signature_file
from signing.errors import SignatureError, SignatureMissing
from signing.signer import Signer
from signing.trust import TrustEntry, TrustStore

_SIGNATURE_FAILURES = frozenset(
    {
        "signature-missing",
        "signature-invalid",
        "unknown-certificate",
        "certificate-revoked",
        "certificate-expired",
        "stale-timestamp",
    }
)


@dataclass(frozen=True)
class VerifiedPackage:
    package: OpenedPackage
    ebd: Ebd
    signer: TrustEntry


def open_verified(
    data: bytes,
    trust: TrustStore,
    *,
    at: datetime,
    limits: PackageLimits = DEFAULT_PACKAGE_LIMITS,
    expected_ebdid: str | None = None,
) -> VerifiedPackage:
    """Open, verify the EBDS over the exact EBDB bytes, then parse the body.

    Raises PackageError / EbdResultError / SignatureError subclasses; ``result_code_for``
    turns any of them into the ResultCode to answer with.
    """
    package = open_package(data, limits, expected_ebdid=expected_ebdid)
    if package.ebds is None:
        raise SignatureMissing(f"package {package.ebdid} holds no EBDS_EBDB_<EBDID>.xml signature")
    signer = verify_signature_file(
        package.ebdb, package.ebds, trust, at=at, expected_ebdid=package.ebdid
    )
    ebd = parse_ebd(package.ebdb)
    if ebd.ebdid.value != package.ebdid:
        raise PackageNameError(
            f"EBDB header says EBDID {ebd.ebdid.value}; its file name says {package.ebdid}"
        )
    return VerifiedPackage(package=package, ebd=ebd, signer=signer)


def seal(ebd: Ebd, signer: Signer, resources: Mapping[str, bytes] | None = None) -> bytes:
    """Serialise ``ebd``, sign those exact bytes and pack body, signature and resources."""
    ebdb = build_ebd(ebd)
    ebdid = ebd.ebdid.value
    ebds = build_signature_file(ebdb, ebdid, signer)
    return build_package(ebdb, ebdid, ebds, resources or {})


def result_code_for(exc: BaseException) -> int:
    """The EBDResponse ResultCode that answers a package refused with ``exc``."""
    if isinstance(exc, EbdResultError):
        return int(exc.result_code)
    if isinstance(exc, SignatureError):
        if exc.code in _SIGNATURE_FAILURES:
            return int(ResultCode.SIGNATURE_FAILED)
        return int(ResultCode.OTHER_ERROR)
    if isinstance(exc, ProtocolError):
        if exc.code == "payload-too-large":
            return int(ResultCode.OTHER_ERROR)
        return int(ResultCode.PARSE_FAILURE)
    return int(ResultCode.OTHER_ERROR)
