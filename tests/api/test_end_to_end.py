"""Signed CAP in -> 202 -> plan -> tasks executed by the fake adapter -> acks -> 100%."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from signing.trust import TrustStore
from tests.api.support import (
    COUNTY,
    cap_alert,
    client_for,
    make_issuer,
    trust,
    wait_for,
    write_platform,
)

ISSUER = make_issuer("200000000001", "安徽省气象局")


@pytest.fixture
def platform_dir(tmp_path: Path, database_url: str | None) -> Path:
    directory = write_platform(tmp_path / "county", database_url=database_url)
    store = TrustStore()
    trust(store, ISSUER, regions=("340000000000",))
    store.save(directory / "trust.json")
    return directory


@pytest.fixture
def client(platform_dir: Path) -> Iterator[TestClient]:
    yield from client_for(platform_dir)


def test_signed_cap_is_accepted_dispatched_and_fully_acked(client: TestClient) -> None:
    body = cap_alert("ah-2026-0001")
    response = client.post(
        "/api/v1/alerts",
        content=body,
        headers=ISSUER.headers(body, content_type="application/cap+xml"),
    )
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    alert_id = response.json()["id"]
    assert location == f"/api/v1/alerts/{alert_id}"

    status = wait_for(client, alert_id, lambda s: s["state"] == "completed")
    assert status["coverage"] == 1.0
    assert status["targeted"] == status["acked"] == 1
    assert status["by_bearer"]["fake"]["coverage"] == 1.0
    assert status["targets"] == [COUNTY]
    assert status["brd_state_code"] == 3
    assert [t["state"] for t in status["tasks"]] == ["acked"]
    events = [e["event"] for e in status["timeline"]]
    for expected in (
        "alert.accepted",
        "alert.planned",
        "task.planned",
        "task.sending",
        "task.sent",
        "task.acked",
        "alert.completed",
    ):
        assert expected in events

    log = client.get(f"{location}/log").json()
    outcomes = [e for e in log["items"] if e["event"] == "target.delivered"]
    acks = [e for e in log["items"] if e["event"] == "ack.played"]
    assert [e["target"] for e in outcomes] == [COUNTY]
    assert [e["target"] for e in acks] == [COUNTY]
    csv_text = client.get(f"{location}/log?format=csv").text
    assert csv_text.splitlines()[0] == "id,at,alert_id,task_id,target,event,detail"
    assert "target.delivered" in csv_text


def test_byte_identical_resend_returns_the_existing_alert(client: TestClient) -> None:
    body = cap_alert("ah-2026-0002")
    first = client.post(
        "/api/v1/alerts",
        content=body,
        headers=ISSUER.headers(body, content_type="application/cap+xml"),
    )
    again = client.post(
        "/api/v1/alerts",
        content=body,
        headers=ISSUER.headers(body, content_type="application/cap+xml"),
    )
    assert first.status_code == 202 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    listing = client.get("/api/v1/alerts").json()
    assert listing["total"] == 1


def test_drill_stays_marked_as_drill(client: TestClient) -> None:
    body = cap_alert("ah-2026-0003", status="Exercise")
    response = client.post(
        "/api/v1/alerts",
        content=body,
        headers=ISSUER.headers(body, content_type="application/cap+xml"),
    )
    assert response.status_code == 202
    status = wait_for(client, response.json()["id"], lambda s: s["state"] == "completed")
    assert status["drill"] is True and status["msg_type"] == 3
    sent = client.app.state.platform.adapters  # type: ignore[attr-defined]
    transmissions = [t for a in sent.values() for t in a.sent]
    assert transmissions and all(t.drill for t in transmissions)


def test_cancel_stops_the_alert_and_reaches_the_adapter(platform_dir: Path) -> None:
    write_platform(platform_dir, adapter_config={"silent": [COUNTY]})
    for client in client_for(platform_dir):
        body = cap_alert("ah-2026-0004")
        alert_id = client.post(
            "/api/v1/alerts",
            content=body,
            headers=ISSUER.headers(body, content_type="application/cap+xml"),
        ).json()["id"]
        wait_for(client, alert_id, lambda s: [t["state"] for t in s["tasks"]] == ["sent"])
        cancel = client.post(
            f"/api/v1/alerts/{alert_id}/cancel",
            content=b"",
            headers=ISSUER.headers(b"", content_type="application/json"),
        )
        assert cancel.status_code == 202, cancel.text
        status = client.get(f"/api/v1/alerts/{alert_id}").json()
        assert status["state"] == "cancelled"
        assert status["brd_state_code"] == 5
        assert [t["state"] for t in status["tasks"]] == ["cancelled"]
        cancel_status = wait_for(client, cancel.json()["id"], lambda s: s["state"] == "completed")
        assert cancel_status["msg_type"] == 2
        adapter = next(iter(client.app.state.platform.adapters.values()))  # type: ignore[attr-defined]
        assert [t.extra.get("cancels") for t in adapter.cancelled] == [status["ebmid"]]
