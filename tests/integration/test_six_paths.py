"""One drill to a county over all six paths at once: IP/MQTT loudspeakers, DTMB, cable, DTH
and FM receivers, and legacy TCP loudspeakers. Every simulated receiver of every bearer acks,
and the log and the status API show per-bearer coverage."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dispatcher.app import create_app
from dispatcher.cli.main import app as cli
from dispatcher.config import load_settings
from signing.sm2 import SM2PublicKey
from signing.trust import TrustStore
from simulators.fleet import Fleet, provision_fleet
from simulators.mixed_fleet import MixedFleet, parse_mix, receiver_ebrids
from terminals.mqtt_terminal import anchor_for_key
from tests.api.support import cap_alert, free_port, make_issuer, trust, write_platform

runner = CliRunner()
ISSUER = make_issuer("860000000001", "舒城县应急管理局")
ADAPTERS = {
    "dtmb": ("43415230000000303010201", ["frequency_hz=474000000"]),
    "cable": ("43415230000000302010201", ["frequency_hz=259000000", 'modulation="64QAM"']),
    "dth": (
        "43415230000000308010201",
        ["frequency_hz=12020000000", "orbital_position=134.0", 'polarization="H"'],
    ),
    "fm": ("43415230000000301010201", ["frequency_khz=97500", 'pi_code="3456"']),
}
GATEWAY = "43415230000000314020201"
MIX = {"dtmb": 1, "cable": 1, "dth": 1, "fm": 1, "legacy-ip": 3}


def _add_adapters(directory: Path, legacy_port: int) -> None:
    for bearer, (ebrid, delivery) in ADAPTERS.items():
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
            f"udp://127.0.0.1:{free_port()}",
            "--site",
            f"舒城 {bearer}",
            "--set",
            "repeat_seconds=0.5",
        ]
        for item in delivery:
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
            GATEWAY,
            "--regions",
            "341523",
            "--listen",
            f"127.0.0.1:{legacy_port}",
        ],
    )
    assert result.exit_code == 0, result.output


def test_bearer_mix_parsing_and_refusals(tmp_path: Path) -> None:
    assert parse_mix("ip=300, dtmb=2,legacy-ip=5") == {"ip": 300, "dtmb": 2, "legacy-ip": 5}
    with pytest.raises(ValueError, match="BEARER=COUNT"):
        parse_mix("dab=1")
    directory = write_platform(tmp_path / "county")
    _add_adapters(directory, free_port())
    anchors = TrustStore()
    with pytest.raises(ValueError, match="only 1 UDP output"):
        MixedFleet(load_settings(directory), "mqtt://127.0.0.1:1", anchors, {"dtmb": 2}).plan()
    codes = receiver_ebrids("341523", "fm", 40)
    assert len({ebrid for ebrid, _ in codes}) == 40
    assert all(ebrid[13:17] == "0301" and ebrid[1:13] == region for ebrid, region in codes)


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
    legacy_port = free_port()
    _add_adapters(directory, legacy_port)
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
    ip_terminals = asyncio.run(
        provision_fleet(settings.database_url, "341523", 20, directory=directory)
    )
    key = SM2PublicKey.from_pem((directory / "keys" / "public.pem").read_bytes())
    anchors = anchor_for_key(key, settings.cert_sn)

    with TestClient(create_app(settings)) as client:
        platform = client.app.state.platform  # type: ignore[attr-defined]
        broker = platform.broker.url
        fleet = Fleet(broker, ip_terminals, anchors, heartbeat_seconds=30)
        others = MixedFleet(settings, broker, anchors, MIX)

        async def start_all() -> None:
            await fleet.start()
            await others.start()

        client.portal.call(start_all)  # type: ignore[union-attr]
        members = {ebrid for _, ebrid, _, _ in others.plan()}
        legacy = {e for b, e, _, _ in others.plan() if b == "legacy-ip"}
        gateway = platform.adapters[GATEWAY]
        for _ in range(100):
            if all(gateway.terminals.get(e) for e in legacy):
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
            if status["acked"] == status["targeted"] == 20 + len(members):
                break
            time.sleep(0.1)
        by_bearer = status["by_bearer"]
        assert set(by_bearer) == {"ip", "dtmb", "cable", "dth", "fm", "legacy-ip"}, by_bearer
        assert all(v["coverage"] == 1.0 for v in by_bearer.values()), by_bearer
        log = client.get(f"/api/v1/alerts/{alert_id}/log?limit=10000").json()["items"]
        assert members <= {e["target"] for e in log if e["event"].startswith("ack.")}

        async def stop_all() -> None:
            await others.stop()
            await fleet.stop()

        client.portal.call(stop_all)  # type: ignore[union-attr]
