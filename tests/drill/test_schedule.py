"""Scheduled drills: occurrence arithmetic, and a weekly test run by the platform itself,
recorded, and flagged FAILED when its coverage is short."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dispatcher.app import create_app
from dispatcher.cli.main import app as cli
from dispatcher.config import load_settings
from simulators.drill.schedule import last_due, next_due
from tests.api.support import write_platform

CST = 8.0


@dataclass
class Weekly:
    name: str = "rwt"
    every: str = "weekly"
    weekday: int = 2  # Wednesday
    day: int = 1
    at: str = "10:00"
    area: list[str] = field(default_factory=list)
    min_coverage: float = 0.9
    wait_seconds: float = 0.5


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def test_weekly_occurrences_are_in_local_time() -> None:
    rwt = Weekly()
    # Wednesday 2025-06-04 10:00 +08:00 is 02:00 UTC
    assert last_due(rwt, _utc("2025-06-04T10:30:00+08:00"), CST) == _utc("2025-06-04T02:00Z")
    assert last_due(rwt, _utc("2025-06-04T09:59:00+08:00"), CST) == _utc("2025-05-28T02:00Z")
    assert next_due(rwt, _utc("2025-06-04T10:30:00+08:00"), CST) == _utc("2025-06-11T02:00Z")
    assert next_due(rwt, _utc("2025-06-04T09:00:00+08:00"), CST) == _utc("2025-06-04T02:00Z")


def test_monthly_occurrences_cross_the_year() -> None:
    rmt = Weekly(name="rmt", every="monthly", day=5, at="14:30")
    assert last_due(rmt, _utc("2025-01-03T12:00:00+08:00"), CST) == _utc("2024-12-05T06:30Z")
    assert next_due(rmt, _utc("2025-01-03T12:00:00+08:00"), CST) == _utc("2025-01-05T06:30Z")
    assert next_due(rmt, _utc("2025-12-06T00:00:00+08:00"), CST) == _utc("2026-01-05T06:30Z")


def test_the_platform_runs_a_due_weekly_test_and_flags_its_failure(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    local = now.astimezone(dt.timezone(dt.timedelta(hours=CST)))
    started = local - dt.timedelta(minutes=5)
    schedule = {"name": "rwt", "every": "weekly", "weekday": started.weekday(),
                "at": f"{started:%H:%M}", "min_coverage": 0.9, "wait_seconds": 0.3}
    # the fake adapter acks only after 30 s, far past the test's wait: coverage stays 0
    directory = write_platform(tmp_path / "county", drill_schedules=[schedule],
                               adapter_config={"ack_delay": 30})
    with TestClient(create_app(load_settings(directory))) as client:
        scheduler_done = False
        for _ in range(200):  # at most 20 s for the test alert and its wait
            listed = CliRunner().invoke(cli, ["drill", "list", "--dir", str(directory)])
            if "rwt" in listed.output:
                scheduler_done = True
                break
            time.sleep(0.1)
        assert scheduler_done, listed.output
        alerts = client.get("/api/v1/alerts").json()["items"]
        assert len(alerts) == 1 and alerts[0]["drill"] is True
    assert "scheduled" in listed.output and "FAILED" in listed.output
    with TestClient(create_app(load_settings(directory))):
        time.sleep(1.0)  # started again: the occurrence is recorded, so it is not re-run
    listed = CliRunner().invoke(cli, ["drill", "list", "--dir", str(directory), "--json"])
    assert listed.output.count('"kind": "scheduled"') == 1
