"""With the database gone, intake answers 503 and nothing is half-written."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from signing.trust import TrustStore
from tests.api.support import cap_alert, client_for, make_issuer, trust, write_platform
from tests.integration.tcpproxy import TcpProxy

ISSUER = make_issuer("500000000001", "县应急局")


def _platform(tmp_path: Path, database_url: str | None) -> Path:
    directory = write_platform(
        tmp_path / "county",
        database_url=database_url,
        database_busy_timeout_ms=300,
        database_connect_timeout=2.0,
    )
    store = TrustStore()
    trust(store, ISSUER)
    store.save(directory / "trust.json")
    return directory


def _post(client, identifier: str):  # type: ignore[no-untyped-def]
    body = cap_alert(identifier)
    return client.post(
        "/api/v1/alerts",
        content=body,
        headers=ISSUER.headers(body, content_type="application/cap+xml"),
    )


def test_sqlite_locked_answers_503_and_stores_nothing(tmp_path: Path) -> None:
    directory = _platform(tmp_path, None)
    for client in client_for(directory):
        assert _post(client, "db-0001").status_code == 202
        blocker = sqlite3.connect(directory / "ebc.db", timeout=0.1)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            refused = _post(client, "db-0002")
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "unavailable"
            assert refused.headers["Retry-After"]
        finally:
            blocker.rollback()
            blocker.close()
        listing = client.get("/api/v1/alerts").json()
        assert [a["identifier"] for a in listing["items"]] == ["db-0001"]
        assert _post(client, "db-0002").status_code == 202


def test_postgresql_stopped_answers_503_and_stores_nothing(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = os.environ.get("EBC_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but EBC_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL: set EBC_TEST_DATABASE_URL to run against it")
    from tests.pgschema import fresh_schema_url

    real = make_url(fresh_schema_url(request, url))
    proxy = TcpProxy(real.port or 5432, real.host or "127.0.0.1")
    proxy.start()
    try:
        through = real.set(port=proxy.port).render_as_string(hide_password=False)
        for client in client_for(_platform(tmp_path, through)):
            assert _post(client, "pg-0001").status_code == 202
            proxy.cut()
            refused = _post(client, "pg-0002")
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "unavailable"
            assert client.get("/readyz").status_code == 503
            proxy.resume()
            listing = None
            for _ in range(50):
                response = client.get("/api/v1/alerts")
                if response.status_code == 200:
                    listing = response.json()
                    break
            assert listing is not None
            assert [a["identifier"] for a in listing["items"]] == ["pg-0001"]
            assert _post(client, "pg-0002").status_code == 202
    finally:
        proxy.close()
