from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dispatcher.app import create_app
from dispatcher.config import load_settings
from tests.console.support import Clock, Console, seed_sync, write_city_platform
from tests.dbsupport import backend_params, postgres_url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=backend_params())
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None: the platform's own SQLite file; else a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return None
    from tests.pgschema import fresh_schema_url

    return fresh_schema_url(request, postgres_url() or "")


@pytest.fixture
def platform_dir(tmp_path: Path, database_url: str | None) -> Path:
    extra = {"database_url": database_url} if database_url else {}
    directory = write_city_platform(tmp_path / "liuan", console_lockout_attempts=3, **extra)
    seed_sync(load_settings(directory).database_url)
    return directory


@pytest.fixture
def client(platform_dir: Path, clock: Clock) -> Iterator[TestClient]:
    app = create_app(load_settings(platform_dir), clock=clock)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def console(client: TestClient) -> Console:
    return Console(client)


@pytest.fixture
def second(client: TestClient) -> Console:
    """Another browser on the same platform (its own cookie jar)."""
    return Console(client)
