"""The EBDS signature file: build, parse, verify, and every way a package is refused."""

from __future__ import annotations

import base64

import pytest

from protocols.codes import CertSN
from protocols.safexml import parse_xml
from signing.ebds import (
    EbdsSignature,
    build_signature_file,
    ebdb_header_id,
    parse_signature_file,
    verify_signature_file,
)
from signing.errors import (
    CertificateExpired,
    CertificateRevoked,
    SignatureInvalid,
    SignatureMissing,
    UnknownCertificate,
)
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey, raw_to_der, verify
from signing.trust import TrustStore
from tests.unit.signing.helpers import CERT_SN, EBDID, NOW, make_entry

EBDB = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<EBD><EBDVersion>1</EBDVersion>'
    f"<EBDID>{EBDID}</EBDID><EBDType>EBM</EBDType>"
    "<RelatedEBD><EBDID>1023400000000000101010101202505310000009</EBDID></RelatedEBD>"
    "<EBM><MsgContent><MsgTitle>暴雨红色预警</MsgTitle></MsgContent></EBM></EBD>\n"
).encode()


def _ebds(signer: SoftwareSigner, ebdb: bytes = EBDB) -> bytes:
    return build_signature_file(ebdb, EBDID, signer)


def test_build_then_parse(signer: SoftwareSigner) -> None:
    data = _ebds(signer)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Signature>')
    root = parse_xml(data)
    assert [child.tag for child in root] == [
        "Version",
        "RelatedEBD",
        "CertSN",
        "SignatureAlgorithm",
        "SignatureValue",
    ]
    parsed = parse_signature_file(data)
    assert isinstance(parsed, EbdsSignature)
    assert (parsed.version, parsed.related_ebdid, parsed.cert_sn, parsed.algorithm) == (
        "1",
        EBDID,
        CERT_SN,
        "SM2-SM3",
    )
    value = root.findtext("SignatureValue") or ""
    assert base64.b64decode(value) == parsed.signature and len(parsed.signature) == 64
    assert verify(signer.public_key, EBDB, parsed.signature)


def test_verify_returns_the_trusted_entry(signer: SoftwareSigner, trust: TrustStore) -> None:
    entry = verify_signature_file(EBDB, _ebds(signer), trust, at=NOW, expected_ebdid=EBDID)
    assert entry.cert_sn == CERT_SN


def test_tampered_ebdb_fails(signer: SoftwareSigner, trust: TrustStore) -> None:
    tampered = EBDB.replace("红色".encode(), "蓝色".encode())
    with pytest.raises(SignatureInvalid, match="does not verify") as caught:
        verify_signature_file(tampered, _ebds(signer), trust, at=NOW)
    assert caught.value.code == "signature-invalid"


def test_reformatted_ebdb_fails(signer: SoftwareSigner, trust: TrustStore) -> None:
    with pytest.raises(SignatureInvalid):
        verify_signature_file(EBDB.replace(b"\n", b"\r\n"), _ebds(signer), trust, at=NOW)


def test_unknown_certificate(private_key: SM2PrivateKey, trust: TrustStore) -> None:
    stranger = SoftwareSigner(private_key, CertSN("999999999999"))
    with pytest.raises(UnknownCertificate, match="999999999999"):
        verify_signature_file(EBDB, _ebds(stranger), trust, at=NOW)


def test_revoked_certificate(signer: SoftwareSigner, trust: TrustStore) -> None:
    trust.revoke(CERT_SN)
    with pytest.raises(CertificateRevoked):
        verify_signature_file(EBDB, _ebds(signer), trust, at=NOW)


def test_expired_certificate(signer: SoftwareSigner, private_key: SM2PrivateKey) -> None:
    trust = TrustStore([make_entry(private_key, not_after=NOW.replace(month=2))])
    with pytest.raises(CertificateExpired):
        verify_signature_file(EBDB, _ebds(signer), trust, at=NOW)


def test_key_of_another_holder_fails(signer: SoftwareSigner, other_key: SM2PrivateKey) -> None:
    trust = TrustStore([make_entry(other_key)])
    with pytest.raises(SignatureInvalid):
        verify_signature_file(EBDB, _ebds(signer), trust, at=NOW)


def test_related_ebd_must_match(signer: SoftwareSigner, trust: TrustStore) -> None:
    other_id = EBDID[:-1] + "2"
    with pytest.raises(SignatureInvalid, match="the package is"):
        verify_signature_file(EBDB, _ebds(signer), trust, at=NOW, expected_ebdid=other_id)
    body = EBDB.replace(EBDID.encode(), other_id.encode(), 1)
    signature = build_signature_file(body, EBDID, signer)
    with pytest.raises(SignatureInvalid, match="the EBDB is"):
        verify_signature_file(body, signature, trust, at=NOW)


def test_header_id_reads_only_the_header() -> None:
    assert ebdb_header_id(EBDB) == EBDID
    assert ebdb_header_id(b"not xml") is None
    assert ebdb_header_id(b"<EBD><EBDType>EBM</EBDType></EBD>") is None


def _replace_value(data: bytes, value: str) -> bytes:
    start = data.index(b"<SignatureValue>") + len(b"<SignatureValue>")
    end = data.index(b"</SignatureValue>")
    return data[:start] + value.encode() + data[end:]


def test_hex_and_der_signature_values_are_read(signer: SoftwareSigner, trust: TrustStore) -> None:
    raw = parse_signature_file(_ebds(signer)).signature
    for value in (raw.hex().upper(), base64.b64encode(raw_to_der(raw)).decode()):
        data = _replace_value(_ebds(signer), value)
        assert parse_signature_file(data).signature == raw


@pytest.mark.parametrize(
    ("mutate", "error", "problem"),
    [
        (lambda d: b"", SignatureMissing, "empty"),
        (lambda d: _replace_value(d, ""), SignatureMissing, "SignatureValue is empty"),
        (lambda d: d.replace(b"SignatureValue", b"Value"), SignatureMissing, "no Signature/Sig"),
        (lambda d: d[:-20], SignatureInvalid, "not readable XML"),
        (
            lambda d: d.replace(b"<Signature>", b"<Sig>").replace(b"</Signature>", b"</Sig>"),
            SignatureInvalid,
            "not <Signature>",
        ),
        (lambda d: d.replace(b"SM2-SM3", b"RSA-SHA256"), SignatureInvalid, "not supported"),
        (
            lambda d: d.replace(b"<CertSN>123456789012", b"<CertSN>12345"),
            SignatureInvalid,
            "CertSN",
        ),
        (lambda d: d.replace(b"<Version>1</Version>", b""), SignatureInvalid, "Version"),
        (lambda d: _replace_value(d, "!!notbase64!!"), SignatureInvalid, "neither base64"),
        (lambda d: _replace_value(d, "AAAA"), SignatureInvalid, "3 bytes"),
        (
            lambda d: b'<!DOCTYPE x [<!ENTITY a "b">]>' + d.split(b"?>", 1)[1],
            SignatureInvalid,
            "DOCTYPE|DTD|entit",
        ),
        (
            lambda d: d.replace(b"</Signature>", b"<CertSN>1</CertSN></Signature>"),
            SignatureInvalid,
            "2 Signature/CertSN",
        ),
    ],
    ids=[
        "empty-file",
        "empty-value",
        "no-value",
        "truncated",
        "wrong-root",
        "algorithm",
        "cert-sn",
        "no-version",
        "bad-base64",
        "short-value",
        "doctype",
        "duplicate",
    ],
)
def test_malformed_signature_files(
    signer: SoftwareSigner, mutate: object, error: type[Exception], problem: str
) -> None:
    data = mutate(_ebds(signer))  # type: ignore[operator]
    with pytest.raises(error, match=problem):
        parse_signature_file(data)
