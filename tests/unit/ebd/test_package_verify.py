"""Signed packages: seal, open_verified, and the ResultCode every refusal maps to."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime, timedelta

import pytest

from protocols.codes import CertSN
from protocols.ebd import (
    EbdInvalidValueError,
    EbdMissingDataError,
    EbdParseError,
    EbdType,
    PackageFormatError,
    PackageLimitError,
    PackageLimits,
    PackageMissingBodyError,
    PackageNameError,
    PackageUnsafeMemberError,
    build_ebd,
    build_package,
    open_package,
)
from protocols.errors import CodeError, XmlSafetyError
from signing.ebds import build_signature_file
from signing.errors import (
    CertificateExpired,
    CertificateRevoked,
    ReplayDetected,
    SignatureError,
    SignatureInvalid,
    SignatureMissing,
    UnknownCertificate,
)
from signing.package import VerifiedPackage, open_verified, result_code_for, seal
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from signing.trust import Rights, TrustEntry, TrustStore
from tests.unit.ebd.samples import sample_ebd

NOW = datetime(2023, 6, 1, 0, 0, tzinfo=UTC)
SN = "100000000001"


def _signer(sn: str = SN) -> SoftwareSigner:
    return SoftwareSigner(SM2PrivateKey.generate(), sn)


def _trust(
    *signers: SoftwareSigner, revoked: bool = False, not_after: datetime | None = None
) -> TrustStore:
    return TrustStore(
        TrustEntry(
            cert_sn=s.cert_sn,
            public_key=s.public_key,
            name=f"platform {s.cert_sn.value}",
            holder_ebrid=None,
            not_before=None,
            not_after=not_after,
            revoked=revoked,
            rights=Rights.unrestricted(),
        )
        for s in signers
    )


def _members(data: bytes) -> dict[str, bytes]:
    opened = open_package(data)
    members = {f"EBDB_{opened.ebdid}.xml": opened.ebdb, **opened.resources}
    if opened.ebds is not None:
        members[f"EBDS_EBDB_{opened.ebdid}.xml"] = opened.ebds
    return members


def _repack(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_sealed_package_opens_and_verifies() -> None:
    signer = _signer()
    ebd = sample_ebd(EbdType.EBM)
    data = seal(ebd, signer, {"rain.mp3": b"ID3\x00"})
    verified = open_verified(data, _trust(signer), at=NOW)
    assert isinstance(verified, VerifiedPackage)
    assert verified.ebd == ebd
    assert verified.signer.cert_sn == CertSN(SN)
    assert verified.package.resources == {"rain.mp3": b"ID3\x00"}
    assert verified.package.ebdb == build_ebd(ebd)


@pytest.mark.parametrize(
    "ebd_type", [EbdType.EBD_RESPONSE, EbdType.CONNECTION_CHECK, EbdType.EBRDT_STATE]
)
def test_other_types_seal_and_verify(ebd_type: EbdType) -> None:
    signer = _signer()
    verified = open_verified(seal(sample_ebd(ebd_type), signer), _trust(signer), at=NOW)
    assert verified.ebd.ebd_type is ebd_type


def test_tampered_body_is_result_code_4() -> None:
    signer = _signer()
    members = _members(seal(sample_ebd(), signer))
    body = next(name for name in members if name.startswith("EBDB_"))
    members[body] = members[body].replace("暴雨".encode(), "大风".encode())
    with pytest.raises(SignatureInvalid) as info:
        open_verified(_repack(members), _trust(signer), at=NOW)
    assert result_code_for(info.value) == 4


def test_tampered_body_that_no_longer_parses_is_still_4() -> None:
    signer = _signer()
    members = _members(seal(sample_ebd(), signer))
    body = next(name for name in members if name.startswith("EBDB_"))
    members[body] = members[body].replace(b"</EBD>", b"")
    with pytest.raises(SignatureError) as info:
        open_verified(_repack(members), _trust(signer), at=NOW)
    assert result_code_for(info.value) == 4


def test_unknown_certificate_is_result_code_4() -> None:
    data = seal(sample_ebd(), _signer())
    with pytest.raises(UnknownCertificate) as info:
        open_verified(data, _trust(_signer("200000000002")), at=NOW)
    assert result_code_for(info.value) == 4


def test_signed_by_a_different_key_with_a_known_serial_is_4() -> None:
    data = seal(sample_ebd(), _signer(SN))
    with pytest.raises(SignatureInvalid) as info:
        open_verified(data, _trust(_signer(SN)), at=NOW)
    assert result_code_for(info.value) == 4


def test_revoked_and_expired_certificates_are_4() -> None:
    signer = _signer()
    data = seal(sample_ebd(), signer)
    with pytest.raises(CertificateRevoked) as revoked:
        open_verified(data, _trust(signer, revoked=True), at=NOW)
    with pytest.raises(CertificateExpired) as expired:
        open_verified(data, _trust(signer, not_after=NOW - timedelta(days=1)), at=NOW)
    assert result_code_for(revoked.value) == result_code_for(expired.value) == 4


def test_missing_signature_is_4() -> None:
    ebdb = build_ebd(sample_ebd())
    data = build_package(ebdb, sample_ebd().ebdid.value, None, {})
    with pytest.raises(SignatureMissing) as info:
        open_verified(data, _trust(_signer()), at=NOW)
    assert result_code_for(info.value) == 4


def test_signature_of_another_package_is_4() -> None:
    signer = _signer()
    ebd = sample_ebd()
    ebdb = build_ebd(ebd)
    other_id = ebd.ebdid.value[:-1] + "9"
    ebds = build_signature_file(ebdb, other_id, signer)
    data = build_package(ebdb, ebd.ebdid.value, ebds, {})
    with pytest.raises(SignatureInvalid) as info:
        open_verified(data, _trust(signer), at=NOW)
    assert result_code_for(info.value) == 4


def test_body_whose_header_disagrees_with_its_file_name_is_refused() -> None:
    signer = _signer()
    ebd = sample_ebd()
    ebdb = build_ebd(ebd)
    other_id = ebd.ebdid.value[:-1] + "9"
    # signed for the file name's id, so only the header/name comparison can catch it
    data = build_package(ebdb, other_id, build_signature_file(ebdb, other_id, signer), {})
    with pytest.raises(SignatureInvalid):
        open_verified(data, _trust(signer), at=NOW)


def test_traversal_member_is_refused_before_any_signature_work() -> None:
    signer = _signer()
    members = _members(seal(sample_ebd(), signer))
    members["../../etc/cron.d/x"] = b"* * * * * root sh"
    with pytest.raises(PackageUnsafeMemberError) as info:
        open_verified(_repack(members), _trust(signer), at=NOW)
    assert result_code_for(info.value) == 5


def test_package_limits_pass_through() -> None:
    signer = _signer()
    data = seal(sample_ebd(), signer, {"a.mp3": b"x" * 2000})
    with pytest.raises(PackageLimitError) as info:
        open_verified(data, _trust(signer), at=NOW, limits=PackageLimits(max_member_bytes=1000))
    assert result_code_for(info.value) == 5


def test_expected_ebdid_from_the_upload_name() -> None:
    signer = _signer()
    data = seal(sample_ebd(), signer)
    with pytest.raises(PackageNameError):
        open_verified(data, _trust(signer), at=NOW, expected_ebdid="1" * 41)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (PackageFormatError("x"), 2),
        (EbdParseError("x"), 2),
        (EbdInvalidValueError("EBD/EBDID", "x"), 2),
        (XmlSafetyError("x"), 2),
        (CodeError("x"), 2),
        (XmlSafetyError("x", code="payload-too-large"), 5),
        (EbdMissingDataError("EBD/EBM", "x"), 3),
        (PackageMissingBodyError("x"), 3),
        (SignatureMissing("x"), 4),
        (SignatureInvalid("x"), 4),
        (UnknownCertificate("x"), 4),
        (CertificateRevoked("x"), 4),
        (CertificateExpired("x"), 4),
        (ReplayDetected("x"), 5),
        (PackageLimitError("x"), 5),
        (PackageUnsafeMemberError("x"), 5),
        (PackageNameError("x"), 5),
        (RuntimeError("x"), 5),
    ],
)
def test_result_code_mapping(exc: BaseException, code: int) -> None:
    assert result_code_for(exc) == code
