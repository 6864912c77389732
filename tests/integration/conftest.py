from __future__ import annotations

import os

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None: the platform's default SQLite file. PostgreSQL when EBC_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        return None
    url = os.environ.get("EBC_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but EBC_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL: set EBC_TEST_DATABASE_URL to run against it")
    from tests.pgschema import fresh_schema_url

    return fresh_schema_url(request, url)
