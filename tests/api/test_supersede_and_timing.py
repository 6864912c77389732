"""Update supersedes, start times wait (BrdStateCode 1), polygons resolve to counties."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dispatcher.app import create_app
from signing.trust import TrustStore
from tests.api.support import (
    cap_alert,
    client_for,
    ebm_json,
    make_issuer,
    settings_for,
    trust,
    wait_for,
    write_platform,
)

ISSUER = make_issuer("810000000001", "县应急局")
EBMID_BASE = "43415230000000103010101" + "20261127"


def _dir(tmp_path: Path, **extra: object) -> Path:
    directory = write_platform(tmp_path / "county", **extra)
    store = TrustStore()
    trust(store, ISSUER, regions=("340000000000",))
    store.save(directory / "trust.json")
    return directory


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from client_for(_dir(tmp_path, adapter_config={"silent": ["341523000000"]}))


def _post(client: TestClient, body: bytes, kind: str = "application/cap+xml") -> str:
    response = client.post(
        "/api/v1/alerts", content=body, headers=ISSUER.headers(body, content_type=kind)
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_update_supersedes_the_referenced_alert(client: TestClient) -> None:
    first = _post(client, cap_alert("upd-0001"))
    wait_for(client, first, lambda s: [t["state"] for t in s["tasks"]] == ["sent"])
    update = cap_alert(
        "upd-0002", msg_type="Update", references="weather.ah.cn,upd-0001,2026-11-27T08:00:00+08:00"
    )
    second = _post(client, update)
    old = client.get(f"/api/v1/alerts/{first}").json()
    assert old["superseded_by"] == second
    assert [t["state"] for t in old["tasks"]] == ["cancelled"]
    assert "alert.superseded" in [e["event"] for e in old["timeline"]]
    new = wait_for(client, second, lambda s: [t["state"] for t in s["tasks"]] == ["sent"])
    assert new["references"] == [first]


def test_polygon_targets_resolve_to_counties_inside_the_jurisdiction(client: TestClient) -> None:
    ring = "<polygon>31.40,116.90 31.40,117.05 31.50,117.05 31.50,116.90 31.40,116.90</polygon>"
    body = cap_alert("poly-0001", extra_area=ring).replace(
        b"<geocode><valueName>GB2260</valueName><value>341523</value></geocode>", b""
    )
    alert = client.get(f"/api/v1/alerts/{_post(client, body)}").json()
    assert alert["targets"] == ["341523000000"]


def test_future_start_waits_then_dispatches(tmp_path: Path) -> None:
    now = [dt.datetime(2026, 11, 27, 0, 0, tzinfo=dt.UTC)]
    app = create_app(settings_for(_dir(tmp_path)), clock=lambda: now[0])
    start = (now[0] + dt.timedelta(minutes=10)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    body = ebm_json(EBMID_BASE + "0500").replace(
        b'"Severity": 2', f'"Severity": 2, "StartTime": "{start:%Y-%m-%d %H:%M:%S}"'.encode()
    )
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/alerts",
            content=body,
            headers=ISSUER.headers(
                body, content_type="application/json", signed_at=int(now[0].timestamp())
            ),
        )
        assert response.status_code == 202, response.text
        alert_id = response.json()["id"]
        status = client.get(f"/api/v1/alerts/{alert_id}").json()
        assert status["state"] == "waiting" and status["brd_state_code"] == 1
        assert [t["state"] for t in status["tasks"]] == ["planned"]
        now[0] += dt.timedelta(minutes=11)
        done = wait_for(client, alert_id, lambda s: s["state"] == "completed")
        assert done["brd_state_code"] == 3


def test_cap_cancel_stops_the_referenced_alert(client: TestClient) -> None:
    first = _post(client, cap_alert("cxl-0001"))
    wait_for(client, first, lambda s: [t["state"] for t in s["tasks"]] == ["sent"])
    cancel = cap_alert("cxl-0002", msg_type="Cancel",
                       references="weather.ah.cn,cxl-0001,2026-11-27T08:00:00+08:00")
    second = _post(client, cancel)
    old = client.get(f"/api/v1/alerts/{first}").json()
    assert old["state"] == "cancelled" and old["brd_state_code"] == 5
    assert old["superseded_by"] == second
    new = client.get(f"/api/v1/alerts/{second}").json()
    assert new["msg_type"] == 2
