"""Operations endpoints: health, readiness, Prometheus metrics, OpenAPI, JSON logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from dispatcher.logging import JsonFormatter
from signing.trust import TrustStore
from tests.api.support import cap_alert, client_for, make_issuer, trust, wait_for, write_platform

ISSUER = make_issuer("700000000001", "县应急局")


def test_health_ready_metrics_and_docs(tmp_path: Path) -> None:
    directory = write_platform(tmp_path / "county")
    store = TrustStore()
    trust(store, ISSUER)
    store.save(directory / "trust.json")
    for client in client_for(directory):
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json()["status"] == "ready"
        body = cap_alert("ops-0001")
        accepted = client.post(
            "/api/v1/alerts",
            content=body,
            headers=ISSUER.headers(body, content_type="application/cap+xml"),
        )
        wait_for(client, accepted.json()["id"], lambda s: s["state"] == "completed")
        client.post("/api/v1/alerts", content=body, headers={"Content-Type": "text/plain"})
        text = client.get("/metrics").text
        assert 'ebc_alerts_total{code="",outcome="accepted"} 1.0' in text
        assert 'ebc_alerts_total{code="unsupported-media-type",outcome="refused"} 1.0' in text
        assert "ebc_intake_seconds_count 2.0" in text
        assert 'ebc_tasks{state="acked"} 1.0' in text
        assert "ebc_acks_total 1.0" in text
        assert "ebc_queue_depth 0.0" in text
        schema = client.get("/openapi.json").json()
        assert "/api/v1/alerts/{alert_id}/cancel" in schema["paths"]
        assert client.get("/docs").status_code == 200


def test_the_platform_is_warm_before_it_answers(tmp_path: Path) -> None:
    """The first alert after a start must not pay for loading the region table and the
    planning inventory (0.4 s with 10,000 terminals) while its issuer waits."""
    directory = write_platform(tmp_path / "county")
    for client in client_for(directory):
        assert client.get("/readyz").json()["status"] == "ready"
        platform = client.app.state.platform  # type: ignore[attr-defined]
        assert platform.intake.placements.loaded


def test_json_log_lines_carry_the_alert_id(caplog: pytest.LogCaptureFixture) -> None:
    record = logging.LogRecord("ebc.intake", logging.INFO, __file__, 1, "alert accepted", (), None)
    record.alert_id = "abc123"
    line = json.loads(JsonFormatter().format(record))
    assert line["alert_id"] == "abc123" and line["message"] == "alert accepted"
