"""One drill to a county over all six paths at once: IP/MQTT loudspeakers, DTMB, cable, DTH
and FM receivers, and legacy TCP loudspeakers. Every simulated receiver of every bearer acks,
and the log and the status API show per-bearer coverage."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dispatcher.app import create_app
from dispatcher.cli.main import app as cli
from dispatcher.config import load_settings
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewTerminal
from signing.sm2 import SM2PublicKey
from signing.trust import TrustStore
from simulators.fleet import Fleet, provision_fleet
from simulators.fm_receiver import FmReceiver
from simulators.legacy_terminal import LegacyTerminal
from simulators.ts_receiver import TsReceiver
from terminals.mqtt_terminal import anchor_for_key
from tests.api.support import cap_alert, free_port, make_issuer, trust, write_platform

runner = CliRunner()
ISSUER = make_issuer("860000000001", "舒城县应急管理局")
TOWN = "341523100"
RECEIVERS = {  # bearer -> (resource type, adapter EBRID)
    "dtmb": ("0303", "43415230000000303010201"),
    "cable": ("0302", "43415230000000302010201"),
    "dth": ("0308", "43415230000000308010201"),
    "fm": ("0301", "43415230000000301010201"),
}
LEGACY = ["63415231000210314020401", "63415231000220314020401", "63415231000230314020401"]
DELIVERY = {
    "dtmb": ["frequency_hz=474000000"],
    "cable": ["frequency_hz=259000000", 'modulation="64QAM"'],
    "dth": ["frequency_hz=12020000000", "orbital_position=134.0", 'polarization="H"'],
    "fm": ["frequency_khz=97500", 'pi_code="3456"'],
}


def receiver_ebrid(bearer: str) -> str:
    return f"6{TOWN}010{RECEIVERS[bearer][0]}010401"


def _add_adapters(directory: Path, ports: dict[str, int], legacy_port: int) -> None:
    for bearer, (_, ebrid) in RECEIVERS.items():
        args = [
            "adapter",
            "add",
            "--dir",
            str(directory),
            "--bearer",
            bearer,
            "--ebrid",
            ebrid,
            "--regions",
            "341523",
            "--output",
            f"udp://127.0.0.1:{ports[bearer]}",
            "--site",
            f"舒城 {bearer}",
            "--set",
            "repeat_seconds=0.5",
        ]
        for item in DELIVERY[bearer]:
            args += ["--set", item]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    result = runner.invoke(
        cli,
        [
            "adapter",
            "add",
            "--dir",
            str(directory),
            "--bearer",
            "legacy-ip",
            "--ebrid",
            "43415230000000314020201",
            "--regions",
            "341523",
            "--listen",
            f"127.0.0.1:{legacy_port}",
        ],
    )
    assert result.exit_code == 0, result.output


async def _seed(url: str) -> None:
    db = Database(url)
    await db.start()
    async with db.session() as session:
        rows = [
            NewTerminal(ebrid=receiver_ebrid(b), bearer=b, region=f"{TOWN}010") for b in RECEIVERS
        ]
        rows += [NewTerminal(ebrid=e, bearer="legacy-ip", region=e[1:13]) for e in LEGACY]
        await repo.upsert_terminals(session, terminals=rows)
        await session.commit()
    await db.stop()


def test_one_drill_over_six_paths(tmp_path: Path) -> None:
    directory = write_platform(tmp_path / "county", ack_flush_interval=0.01)
    config = json.loads((directory / "platform.json").read_text())
    config["adapters"] = [
        {
            "ebrid": "43415230000000314010201",
            "bearer": "ip",
            "regions": ["341523000000"],
            "config": {},
        }
    ]
    (directory / "platform.json").write_text(json.dumps(config))
    ports = {bearer: free_port() for bearer in RECEIVERS}
    legacy_port = free_port()
    _add_adapters(directory, ports, legacy_port)
    listed = runner.invoke(cli, ["adapter", "list", "--dir", str(directory), "--json"])
    assert {a["bearer"] for a in json.loads(listed.stdout)} == {
        "ip",
        "dtmb",
        "cable",
        "dth",
        "fm",
        "legacy-ip",
    }
    store = TrustStore()
    trust(store, ISSUER)
    store.save(directory / "trust.json")
    settings = load_settings(directory)
    asyncio.run(_seed(settings.database_url))
    ip_terminals = asyncio.run(
        provision_fleet(settings.database_url, "341523", 20, directory=directory)
    )
    key = SM2PublicKey.from_pem((directory / "keys" / "public.pem").read_bytes())
    anchors = anchor_for_key(key, settings.cert_sn)

    with TestClient(create_app(settings)) as client:
        platform = client.app.state.platform  # type: ignore[attr-defined]
        broker = platform.broker.url
        fleet = Fleet(broker, ip_terminals, anchors, heartbeat_seconds=30)
        ts = [
            TsReceiver(
                receiver_ebrid(b),
                anchors,
                input=f"udp://127.0.0.1:{ports[b]}",
                broker_url=broker,
                bearer=b,
            )
            for b in ("dtmb", "cable", "dth")
        ]
        fm = FmReceiver(
            receiver_ebrid("fm"), anchors, input=f"udp://127.0.0.1:{ports['fm']}", broker_url=broker
        )
        legacy = [LegacyTerminal(e, anchors, port=legacy_port) for e in LEGACY]
        stop = asyncio.Event()

        async def start_all() -> None:
            await fleet.start()
            for receiver in ts:
                await receiver.start()
            await fm.start(stop)
            for terminal in legacy:
                await terminal.start()

        client.portal.call(start_all)  # type: ignore[union-attr]
        gateway = platform.adapters["43415230000000314020201"]
        for _ in range(100):
            if all(gateway.terminals.get(e) for e in LEGACY):
                break
            time.sleep(0.1)
        body = cap_alert("six-0001", status="Exercise")
        accepted = client.post(
            "/api/v1/alerts",
            content=body,
            headers=ISSUER.headers(body, content_type="application/cap+xml"),
        )
        assert accepted.status_code == 202, accepted.text
        alert_id = accepted.json()["id"]
        status: dict[str, Any] = {}
        for _ in range(300):
            status = client.get(f"/api/v1/alerts/{alert_id}").json()
            if status["acked"] == status["targeted"] == 20 + 4 + 3:
                break
            time.sleep(0.1)
        by_bearer = status["by_bearer"]
        assert set(by_bearer) == {"ip", "dtmb", "cable", "dth", "fm", "legacy-ip"}, by_bearer
        assert all(v["coverage"] == 1.0 for v in by_bearer.values()), by_bearer
        log = client.get(f"/api/v1/alerts/{alert_id}/log?limit=10000").json()["items"]
        acked = {e["target"] for e in log if e["event"].startswith("ack.")}
        assert {receiver_ebrid(b) for b in RECEIVERS} | set(LEGACY) <= acked

        async def stop_all() -> None:
            stop.set()
            await fleet.stop()
            for receiver in ts:
                await receiver.stop()
            await fm.close()
            for terminal in legacy:
                await terminal.stop()

        client.portal.call(stop_all)  # type: ignore[union-attr]
