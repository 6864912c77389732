"""Trust store: lookup, revocation, validity period, rights, and the JSON file."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from protocols.codes import CertSN
from signing.errors import (
    CertificateExpired,
    CertificateRevoked,
    TrustStoreError,
    UnknownCertificate,
)
from signing.sm2 import SM2PrivateKey
from signing.trust import Rights, TrustStore
from tests.unit.signing.helpers import CERT_SN, NOW, make_entry


def test_add_get_and_replace(private_key: SM2PrivateKey, other_key: SM2PrivateKey) -> None:
    store = TrustStore()
    store.add(make_entry(private_key))
    assert store.get("123456789012").public_key == private_key.public_key()
    store.add(make_entry(other_key, name="Re-keyed"))
    assert len(store) == 1
    assert store.get(CERT_SN).public_key == other_key.public_key()
    assert CERT_SN in store


def test_unknown_certificate(trust: TrustStore) -> None:
    with pytest.raises(UnknownCertificate, match="000000000001") as caught:
        trust.get("000000000001")
    assert caught.value.code == "unknown-certificate"
    with pytest.raises(UnknownCertificate):
        trust.revoke("000000000001")


def test_revoke(trust: TrustStore) -> None:
    assert trust.require_valid(CERT_SN, at=NOW).name
    trust.revoke(CERT_SN)
    with pytest.raises(CertificateRevoked) as caught:
        trust.require_valid(CERT_SN, at=NOW)
    assert caught.value.code == "certificate-revoked"


@pytest.mark.parametrize(
    ("at", "problem"),
    [
        (datetime(2024, 12, 31, 23, 59, tzinfo=UTC), "not valid before"),
        (datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC), "expired"),
    ],
)
def test_outside_validity_period(trust: TrustStore, at: datetime, problem: str) -> None:
    with pytest.raises(CertificateExpired, match=problem):
        trust.require_valid(CERT_SN, at=at)


def test_validity_boundaries_and_offsets(trust: TrustStore) -> None:
    trust.require_valid(CERT_SN, at=datetime(2026, 1, 1, tzinfo=UTC))
    trust.require_valid(CERT_SN, at=datetime(2026, 1, 1, 8, tzinfo=UTC) - timedelta(hours=8))
    with pytest.raises(ValueError, match="timezone-aware"):
        trust.require_valid(CERT_SN, at=datetime(2025, 6, 1))


def test_open_ended_validity(private_key: SM2PrivateKey) -> None:
    store = TrustStore([make_entry(private_key, not_before=None, not_after=None)])
    store.require_valid(CERT_SN, at=datetime(2099, 1, 1, tzinfo=UTC))


def test_naive_or_inverted_period_is_refused(private_key: SM2PrivateKey) -> None:
    with pytest.raises(TrustStoreError, match="timezone-aware"):
        make_entry(private_key, not_after=datetime(2026, 1, 1))
    with pytest.raises(TrustStoreError, match="later than"):
        make_entry(private_key, not_before=datetime(2027, 1, 1, tzinfo=UTC))


def test_region_rights_contain_by_significant_digits() -> None:
    rights = Rights(("340000000000", "420100000000"), ("11B03",), (1, 2))
    assert rights.allows_region("341523000000")  # county in the province
    assert rights.allows_region("341523100200")  # village in the province
    assert rights.allows_region("420102000000")  # district in the city
    assert not rights.allows_region("420200000000")  # another city of that province
    assert not rights.allows_region("350000000000")
    assert rights.allows_regions(["341523000000", "420102000000"])
    assert not rights.allows_regions(["341523000000", "350000000000"])
    assert not rights.allows_regions([])


def test_event_and_msgtype_rights() -> None:
    narrow = Rights(("340000000000",), ("11B03", "11B01"), (1, 2))
    assert narrow.allows_event("11B03") and not narrow.allows_event("11B06")
    assert narrow.allows_msgtype(2) and not narrow.allows_msgtype(3)
    anything = Rights.unrestricted()
    assert anything.allows_event("24A01") and anything.allows_msgtype(5)
    assert anything.allows_region("650000000000")


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"regions": ("34",)}, "regions"),
        ({"event_types": ("11B0",)}, "event_types"),
        ({"msg_types": (6,)}, "msg_types"),
    ],
)
def test_rights_are_validated(kwargs: dict[str, Any], problem: str) -> None:
    fields: dict[str, Any] = {
        "regions": ("340000000000",),
        "event_types": ("*",),
        "msg_types": (1,),
    }
    fields.update(kwargs)
    with pytest.raises(TrustStoreError, match=problem):
        Rights(**fields)


def test_save_load_round_trip(
    tmp_path: Path, private_key: SM2PrivateKey, other_key: SM2PrivateKey
) -> None:
    store = TrustStore(
        [
            make_entry(private_key),
            make_entry(
                other_key,
                CertSN("000000000042"),
                holder_ebrid=None,
                not_before=None,
                not_after=datetime(2030, 1, 1, 8, tzinfo=UTC) + timedelta(0),
                revoked=True,
                rights=Rights.unrestricted(),
            ),
        ]
    )
    path = tmp_path / "trust.json"
    store.save(path)
    loaded = TrustStore.load(path)
    assert loaded.entries() == store.entries()
    assert [e.cert_sn.value for e in loaded.entries()] == ["000000000042", "123456789012"]
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["entries"][1]["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert os.listdir(tmp_path) == ["trust.json"]  # the temporary file was renamed away
    store.revoke(CERT_SN)
    store.save(path)
    assert TrustStore.load(path).get(CERT_SN).revoked


def _entry_json(key: SM2PrivateKey) -> dict[str, Any]:
    return {
        "cert_sn": "123456789012",
        "name": "Province platform",
        "holder_ebrid": "23400000000000101010101",
        "not_before": "2025-01-01T00:00:00+08:00",
        "not_after": None,
        "revoked": False,
        "rights": {"regions": ["340000000000"], "event_types": ["*"], "msg_types": [1]},
        "public_key": key.public_key().to_pem().decode(),
    }


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"name": None}, r"entries\[0\] \(cert_sn 123456789012\): field 'name': is required"),
        ({"cert_sn": "12345"}, r"field 'cert_sn': .*12 decimal digits"),
        ({"not_after": "2026-01-01T00:00:00"}, r"field 'not_after': .*no UTC offset"),
        ({"not_before": "yesterday"}, r"field 'not_before'"),
        ({"revoked": "no"}, r"field 'revoked': must be a bool"),
        ({"holder_ebrid": "123"}, r"field 'holder_ebrid'"),
        ({"public_key": "not a pem"}, r"field 'public_key': not a PEM file"),
        ({"rights": {"regions": ["34"], "event_types": [], "msg_types": []}}, r"field 'rights'"),
        ({"rights": {"regions": []}}, r"field 'rights': event_types, msg_types must be list"),
        ({"not_afer": "2026-01-01T00:00:00+00:00"}, r"field 'not_afer': is not a known field"),
    ],
)
def test_malformed_file_names_entry_and_field(
    tmp_path: Path, private_key: SM2PrivateKey, change: dict[str, Any], problem: str
) -> None:
    entry = _entry_json(private_key)
    entry.update(change)
    path = tmp_path / "trust.json"
    path.write_text(json.dumps({"entries": [entry]}), encoding="utf-8")
    with pytest.raises(TrustStoreError, match=problem) as caught:
        TrustStore.load(path)
    assert str(path) in caught.value.message


def test_p256_public_key_in_file_is_refused(tmp_path: Path, private_key: SM2PrivateKey) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    p256 = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    entry = _entry_json(private_key) | {"public_key": p256.decode()}
    path = tmp_path / "trust.json"
    path.write_text(json.dumps({"entries": [entry]}), encoding="utf-8")
    with pytest.raises(TrustStoreError, match=r"field 'public_key': key curve .*P-256"):
        TrustStore.load(path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not JSON"),
        ("[]", "top level"),
        ('{"entries": {}}', "'entries' must be a list"),
        ('{"version": 2, "entries": []}', "'version'"),
        ('{"entries": [1]}', r"entries\[0\]: must be a JSON object"),
    ],
)
def test_malformed_file_shapes(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "trust.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TrustStoreError, match=problem):
        TrustStore.load(path)


def test_duplicate_serial_in_file(tmp_path: Path, private_key: SM2PrivateKey) -> None:
    path = tmp_path / "trust.json"
    entry = _entry_json(private_key)
    path.write_text(json.dumps({"entries": [entry, entry]}), encoding="utf-8")
    with pytest.raises(TrustStoreError, match=r"entries\[1\].*appears twice"):
        TrustStore.load(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError, match="cannot read"):
        TrustStore.load(tmp_path / "absent.json")
