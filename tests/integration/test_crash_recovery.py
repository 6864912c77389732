"""SIGKILL the dispatcher in the middle of a fan-out, restart it: every planned task completes
and the log holds each target's outcome exactly once."""

from __future__ import annotations

import asyncio
import collections
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewTerminal
from signing.trust import TrustStore
from tests.api.support import cap_alert, make_issuer, trust, write_platform
from tests.integration.server import Server, free_port

ISSUER = make_issuer("400000000001", "县应急局")
TOWNS = ["341523100000", "341523101000", "341523102000"]
PER_TOWN = 12


def _adapters() -> list[dict[str, object]]:
    return [
        {
            "ebrid": f"4341523000000039901{n + 1:02d}02",
            "bearer": "fake",
            "regions": [town],
            "config": {"delay": 0.08},
        }
        for n, town in enumerate(TOWNS)
    ]


def _terminals() -> list[NewTerminal]:
    return [
        NewTerminal(
            ebrid=f"6{town[:9]}{n + 1:03d}0399010401",
            bearer="fake",
            region=f"{town[:9]}{n + 1:03d}",
            name=f"t{n}",
        )
        for town in TOWNS
        for n in range(PER_TOWN)
    ]


async def _seed(url: str) -> None:
    db = Database(url)
    await db.start()
    async with db.session() as session:
        await repo.upsert_terminals(session, terminals=_terminals())
        await session.commit()
    await db.stop()


@pytest.fixture
def server(tmp_path: Path, database_url: str | None) -> Iterator[Server]:
    directory = write_platform(
        tmp_path / "county", database_url=database_url, workers=1, poll_interval=0.02
    )
    config = (directory / "platform.json").read_text()
    import json

    data = json.loads(config)
    data["adapters"] = _adapters()
    (directory / "platform.json").write_text(json.dumps(data))
    store = TrustStore()
    trust(store, ISSUER)
    store.save(directory / "trust.json")
    url = database_url or f"sqlite+aiosqlite:///{(directory / 'ebc.db').resolve()}"
    asyncio.run(_seed(url))
    srv = Server(directory, free_port())
    yield srv
    srv.stop()


def _log(server: Server, alert_id: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = httpx.get(
        f"{server.url}/api/v1/alerts/{alert_id}/log?limit=10000", timeout=10
    ).json()["items"]
    return items


def test_sigkill_mid_fanout_then_restart_completes_exactly_once(server: Server) -> None:
    server.start()
    body = cap_alert("crash-0001")
    headers = ISSUER.headers(body, content_type="application/cap+xml")
    accepted = httpx.post(f"{server.url}/api/v1/alerts", content=body, headers=headers, timeout=10)
    assert accepted.status_code == 202, accepted.text
    alert_id = accepted.json()["id"]

    # wait until the first task is done and a later one is being sent, then kill
    for _ in range(400):
        states = [
            t["state"]
            for t in httpx.get(f"{server.url}/api/v1/alerts/{alert_id}", timeout=10).json()["tasks"]
        ]
        if "acked" in states and "sending" in states:
            break
        time.sleep(0.02)
    else:
        raise AssertionError(f"never caught the fan-out in flight: {states}")
    server.kill()

    server.start()
    status: dict[str, object] = {}
    for _ in range(400):
        status = httpx.get(f"{server.url}/api/v1/alerts/{alert_id}", timeout=10).json()
        if status["state"] == "completed":
            break
        time.sleep(0.05)
    assert status["state"] == "completed", status
    assert status["coverage"] == 1.0
    assert status["targeted"] == len(TOWNS) * PER_TOWN

    log = _log(server, alert_id)
    delivered = collections.Counter(e["target"] for e in log if e["event"] == "target.delivered")
    acked = collections.Counter(e["target"] for e in log if e["event"] == "ack.played")
    expected = {t.ebrid for t in _terminals()}
    assert set(delivered) == expected and set(delivered.values()) == {1}
    assert set(acked) == expected and set(acked.values()) == {1}
    assert any(
        e["event"] == "task.planned" and (e["detail"] or {}).get("event") == "recover" for e in log
    ), "the interrupted task was not recovered"
    assert os.path.exists(server.directory / "server.log")
