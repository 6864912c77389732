"""Every intake error code, reached by a request, with nothing persisted for the refusal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from signing.trust import TrustStore
from tests.api.support import (
    cap_alert,
    client_for,
    ebm_json,
    make_issuer,
    trust,
    write_platform,
)

GOOD = make_issuer("300000000001", "县应急局")
REVOKED = make_issuer("300000000002", "撤销的证书")
EVENT_LIMITED = make_issuer("300000000003", "只发台风")
DRILL_ONLY = make_issuer("300000000004", "只发演练")
OTHER_COUNTY = make_issuer("300000000005", "邻县")
PROVINCE = make_issuer("300000000006", "省平台")
UNKNOWN = make_issuer("399999999999", "陌生人")
EBMID_BASE = "43415230000000103010101" + "20261127"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    directory = write_platform(
        tmp_path_factory.mktemp("county"), max_body_bytes=20_000, rate_limit_per_minute=1000
    )
    store = TrustStore()
    trust(store, GOOD)
    trust(store, REVOKED, revoked=True)
    trust(store, EVENT_LIMITED, events=("11B01",))
    trust(store, DRILL_ONLY, msgtypes=(3, 4, 5))
    trust(store, OTHER_COUNTY, regions=("341522000000",))
    trust(store, PROVINCE, regions=("340000000000",))
    store.save(directory / "trust.json")
    yield from client_for(directory)


def _post(
    client: TestClient,
    body: bytes,
    issuer: object = GOOD,
    *,
    content_type: str = "application/cap+xml",
    **kwargs: int,
) -> dict[str, object]:
    headers = issuer.headers(body, content_type=content_type, **kwargs)  # type: ignore[attr-defined]
    response = client.post("/api/v1/alerts", content=body, headers=headers)
    payload: dict[str, object] = response.json()
    payload["_status"] = response.status_code
    payload["_type"] = response.headers["content-type"]
    return payload


def _total(client: TestClient) -> int:
    return int(client.get("/api/v1/alerts").json()["total"])


def _refused(client: TestClient, payload: dict[str, object], code: str, status: int) -> None:
    assert payload["code"] == code, payload
    assert payload["_status"] == status
    assert payload["_type"].startswith("application/problem+json")  # type: ignore[union-attr]
    assert payload["type"] and payload["title"] and payload["detail"]


@pytest.mark.parametrize(
    ("name", "code", "status"),
    [
        ("invalid-cap", "invalid-cap", 400),
        ("invalid-ebm", "invalid-ebm", 400),
        ("unsupported-media-type", "unsupported-media-type", 415),
        ("payload-too-large", "payload-too-large", 413),
        ("signature-invalid", "signature-invalid", 401),
        ("unknown-certificate", "unknown-certificate", 401),
        ("certificate-revoked", "certificate-revoked", 403),
        ("stale-timestamp", "stale-timestamp", 401),
        ("not-authorised-event", "not-authorised-event", 403),
        ("not-authorised-msgtype", "not-authorised-msgtype", 403),
        ("not-authorised-region", "not-authorised-region", 403),
        ("outside-jurisdiction", "outside-jurisdiction", 403),
        ("missing-reference", "missing-reference", 422),
        ("reference-unknown", "reference-unknown", 422),
    ],
)
def test_refusals_store_nothing(client: TestClient, name: str, code: str, status: int) -> None:
    before = _total(client)
    cap = cap_alert(f"err-{name}")
    if name == "invalid-cap":
        payload = _post(client, cap.replace(b"<scope>Public</scope>", b""))
        assert any(p["rule"] == "required" for p in payload["problems"])  # type: ignore[attr-defined]
    elif name == "invalid-ebm":
        payload = _post(client, b'{"EBMID": "1"}', content_type="application/json")
    elif name == "unsupported-media-type":
        payload = _post(client, cap, content_type="text/plain")
    elif name == "payload-too-large":
        payload = _post(client, cap + b" " * 30_000)
    elif name == "signature-invalid":
        headers = GOOD.headers(cap, content_type="application/cap+xml")
        tampered = cap.replace("橙色".encode(), "红色".encode())
        assert tampered != cap
        response = client.post("/api/v1/alerts", content=tampered, headers=headers)
        payload = {
            **response.json(),
            "_status": response.status_code,
            "_type": response.headers["content-type"],
        }
    elif name == "unknown-certificate":
        payload = _post(client, cap, UNKNOWN)
    elif name == "certificate-revoked":
        payload = _post(client, cap, REVOKED)
    elif name == "stale-timestamp":
        payload = _post(client, cap, signed_at=int(time.time()) - 3600)
    elif name == "not-authorised-event":
        payload = _post(client, cap, EVENT_LIMITED)
    elif name == "not-authorised-msgtype":
        payload = _post(client, cap, DRILL_ONLY)
    elif name == "not-authorised-region":
        payload = _post(client, cap, OTHER_COUNTY)
    elif name == "outside-jurisdiction":
        payload = _post(client, cap_alert("err-outside", geocode="341522"), PROVINCE)
    elif name == "missing-reference":
        payload = _post(
            client, ebm_json(EBMID_BASE + "0901", msg_type=2), content_type="application/json"
        )
    else:
        payload = _post(
            client,
            ebm_json(EBMID_BASE + "0902", msg_type=2, related=EBMID_BASE + "0999"),
            content_type="application/json",
        )
    _refused(client, payload, code, status)
    assert _total(client) == before


def test_signature_missing(client: TestClient) -> None:
    response = client.post(
        "/api/v1/alerts",
        content=cap_alert("err-nosig"),
        headers={"Content-Type": "application/cap+xml"},
    )
    assert response.status_code == 401 and response.json()["code"] == "signature-missing"


def test_replay_with_different_bytes_is_refused(client: TestClient) -> None:
    first = _post(client, cap_alert("err-replay"))
    assert first["_status"] == 202
    before = _total(client)
    changed = cap_alert("err-replay").replace("预计".encode(), "现在".encode())
    _refused(client, _post(client, changed), "replay", 409)
    assert _total(client) == before


def test_cancelling_twice_is_reference_expired(client: TestClient) -> None:
    ebmid = EBMID_BASE + "0100"
    assert _post(client, ebm_json(ebmid), content_type="application/json")["_status"] == 202
    cancel = ebm_json(EBMID_BASE + "0101", msg_type=2, related=ebmid)
    assert _post(client, cancel, content_type="application/json")["_status"] == 202
    again = ebm_json(EBMID_BASE + "0102", msg_type=2, related=ebmid)
    _refused(
        client, _post(client, again, content_type="application/json"), "reference-expired", 409
    )


def test_rate_limited(tmp_path: Path) -> None:
    directory = write_platform(tmp_path / "limited", rate_limit_per_minute=2)
    store = TrustStore()
    trust(store, GOOD)
    store.save(directory / "trust.json")
    for client in client_for(directory):
        statuses = [_post(client, cap_alert(f"rl-{i}"))["_status"] for i in range(3)]
        assert statuses == [202, 202, 429]
        assert _total(client) == 2
